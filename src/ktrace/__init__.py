"""ktrace for Linux: the BSD kernel trace facility, in Python."""
