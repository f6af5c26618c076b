"""Operations tools: run against a deployed stack or inside the local runtime."""
