"""What several test modules share: servers and clients, CLI runs, golden files, documents.

Test modules import from here (and from tests.helpers, tests.fakes), never from one another or from
conftest; conftest holds the fixtures built on these.
"""
