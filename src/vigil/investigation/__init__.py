"""Investigation tools: the assistant reads the team's alerts and data itself.

- `alerts`: open and acknowledged alerts (most relevant first) and alert counts;
- `nl_esql`: natural language to ES|QL, written by the model, verified and run by Vigil;
- `charts`: an ES|QL time series turned into a stored chart (`vigil.charts`);
- `access`: which indices a caller may read in a space;
- `lineage`, `tables`, `framing`: what of a result the model may see, compactly, as data.
"""
