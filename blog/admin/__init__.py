"""The editors' tool: the Django admin for posts, tags, authors and comments.

posts.py: filters, search, slug prepopulation, publish/unpublish/schedule
actions, the staff-only preview and optimistic locking (editing.py);
comments.py: moderation (approve, hide, delete) keeping counts exact;
others.py: tags and authors' profiles.
"""
from . import comments, others, posts  # noqa: F401  (registers the ModelAdmins)
