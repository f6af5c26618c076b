"""The API's OpenAPI document (``document``) and its command line (``__main__``)."""
