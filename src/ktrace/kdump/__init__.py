"""kdump(1): FreeBSD's text layout, JSON Lines, and the strace and summary views.

``ktrace.kdump.cli.main`` is the command.  For programs: a trace's records
come from :func:`ktrace.read_records`; :class:`~ktrace.kdump.text.TextFormatter`
and :class:`~ktrace.kdump.jsonl.JsonFormatter` turn them into kdump's output.
"""
