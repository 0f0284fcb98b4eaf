"""The blog: posts, tags, comments, the readers' pages and the editors' admin."""
