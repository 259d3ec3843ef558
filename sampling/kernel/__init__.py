"""The shared kernel: text rules, ids, accounts and scopes, regions, tabular files, exports."""
