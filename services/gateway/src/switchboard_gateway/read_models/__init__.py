"""The query side: tables built from public events, and the queries the API answers from them."""
