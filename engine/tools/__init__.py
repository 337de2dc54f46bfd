"""The tools a policy editor runs on rulebooks: lint, diff, the article-by-article documentation
and the skeleton of a new rulebook or plugin.  Above inputs and reports; below the command line
(see ``docs/architecture.md``)."""
