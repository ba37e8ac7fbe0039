"""The camera inventory: the reference estate (`estate.py`, `hub estate`) and CSV in and out (`csv_io.py`,
`hub import` and `hub export`). Pure text in, text out; the command line writes the files."""
