"""Investigation tools: the assistant reads the team's alerts and data itself (docs/investigation.md).

- `alerts`: open and acknowledged alerts (most relevant first) and alert counts;
- `nl_esql`: natural language to ES|QL, written by the model, checked and run by Vigil, repaired;
- `chart_tool`: a query result turned into a chart stored with the conversation (`vigil.charts`);
- `index_entries`: one search tool per knowledge base index entry;
- `attached`: an alert attached to a chat message, as a citation;
- `access`: which indices a caller may read in a space; `esql_runner`: running a query for a tool;
- `data_context`: what the query writer is told about the data;
- `lineage`, `tables`, `framing`: what of a result the model may see, compactly, as data;
- `alerts_to_analyze`, `models`: "alerts to analyze" per request and conversation;
- `tools`: the static tools as registered with the assistant.
"""
