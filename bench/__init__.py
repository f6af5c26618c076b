"""`make bench`: the project measuring what an order costs and how fast the saga runs."""
