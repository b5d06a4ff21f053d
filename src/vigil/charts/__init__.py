"""Charts the assistant makes from ES|QL results: stored with the conversation they belong to,
readable as a Vega-Lite spec or a PNG by whoever may read that conversation."""
