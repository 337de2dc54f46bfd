"""`rulebook serve`: the engine's decisions over HTTP (the optional extra ``[serve]``).

``config`` (the settings and their environment variables), ``rulebooks`` (the rulebooks served,
swapped whole when a file changes), ``app`` (the Starlette application and its endpoints),
``problems`` (errors as RFC 9457 problem details), ``metrics`` (Prometheus), ``decisionlog``
(every decision logged with personal data masked), ``openapi`` (the OpenAPI document).

Importing this package imports neither Starlette nor uvicorn; ``engine.serve.app`` does.
"""

from __future__ import annotations

__all__: list[str] = []
