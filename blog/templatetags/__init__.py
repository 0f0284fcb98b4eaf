"""Template tags and filters of the blog."""
