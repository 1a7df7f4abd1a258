"""Operations that change state. They flush, audit and return; the request or CLI command commits."""
