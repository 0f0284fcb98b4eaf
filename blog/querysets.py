"""What readers may see, and how lists are fetched, as QuerySet methods
(exposed on the models with `as_manager()`)."""
from django.contrib.postgres.search import SearchHeadline, SearchQuery, SearchRank
from django.db import models
from django.db.models import F

SEARCH_CONFIG = "english"
# The one order of every list, newest first. Plain DESC (nulls first, as
# PostgreSQL's DESC index is built): a NULLS LAST order cannot use
# post_published_idx and sorted the whole table (107 ms at 100,000 posts).
# Published posts always have a date.
NEWEST_FIRST = ("-published_at", "-id")
# Sentinels around matched words: the headline is escaped first, then they
# become <mark>, so a post's text can never inject markup into a snippet.
MATCH_START, MATCH_END = "\x02", "\x03"


class PostQuerySet(models.QuerySet):
    def published(self):
        return self.filter(status=self.model.Status.PUBLISHED)

    def due(self, now):
        """Scheduled posts whose time has come."""
        return self.filter(status=self.model.Status.SCHEDULED, published_at__lte=now)

    def newest_first(self):
        return self.order_by(*NEWEST_FIRST)

    def for_list(self):
        """What a list shows: author and profile joined, tags in one more query."""
        return (self.select_related("author__author_profile").prefetch_related("tags")
                .defer("body", "body_html", "body_text"))

    def in_year(self, year):
        return self.filter(published_at__year=year)

    def in_month(self, year, month):
        return self.filter(published_at__year=year, published_at__month=month)

    def search(self, terms):
        """Published posts matching `terms` (web-search syntax), best first,
        each with `rank` and a `headline` snippet (see `MATCH_START`)."""
        query = SearchQuery(terms, search_type="websearch", config=SEARCH_CONFIG)
        return (
            self.published().filter(search_vector=query)
            .annotate(rank=SearchRank(F("search_vector"), query),
                      headline=SearchHeadline("body_text", query, config=SEARCH_CONFIG,
                                              start_sel=MATCH_START, stop_sel=MATCH_END,
                                              max_words=40, min_words=20, max_fragments=2,
                                              fragment_delimiter=" … "))
            .order_by("-rank", "-published_at", "-id")
        )


class CommentQuerySet(models.QuerySet):
    def visible(self):
        return self.filter(status=self.model.Status.VISIBLE)

    def held(self):
        return self.filter(status=self.model.Status.HELD)
