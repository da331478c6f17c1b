"""Full-text search with whoosh: index kept in step with git, answers filtered by permission.

- :mod:`wiki.search.analysis` German folding and stemming, field types;
- :mod:`wiki.search.schema` the schema, its fingerprint, page → document;
- :mod:`wiki.search.querylang` the query language;
- :mod:`wiki.search.engine` fast evaluation of whoosh queries with bit sets;
- :mod:`wiki.search.snippets` highlighted excerpts;
- :mod:`wiki.search.store` index folders, the atomic swap, the write lock;
- :mod:`wiki.search.service` the service the app registers as the plugin ``wiki.search``.
"""

from wiki.search.querylang import BadQuery
from wiki.search.service import Facet, Hit, Results, SearchService, SearchUnavailable

__all__ = ["BadQuery", "Facet", "Hit", "Results", "SearchService", "SearchUnavailable"]
