"""One module per LLM vendor. Vendor SDK imports live here and nowhere else in Vigil."""
