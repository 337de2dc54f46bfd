"""The configuration: from the environment, back to it, and refused when it cannot be read."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from engine.errors import UsageError
from engine.serve.config import DEFAULT_MASKED_FIELDS, ServeConfig


def test_defaults_from_an_empty_environment() -> None:
    config = ServeConfig.from_env({})
    assert config == ServeConfig()
    assert config.tokens == frozenset() and config.cors_origins == () and config.masked_fields == DEFAULT_MASKED_FIELDS
    assert {"name", "birth_date", "id_number"} <= set(config.masked_fields)


def test_every_variable_is_read(tmp_path: Path) -> None:
    tokens = tmp_path / "tokens"
    tokens.write_text("# the platform's\nfrom-file\n\n  second  \n", encoding="utf-8")
    env = {
        "RULEBOOK_SERVE_RULEBOOKS": os.pathsep.join(["a", "b/c.yaml"]),
        "RULEBOOK_SERVE_LANG": "EN",
        "RULEBOOK_SERVE_MAX_BODY_BYTES": "10",
        "RULEBOOK_SERVE_MAX_BATCH_BYTES": "20",
        "RULEBOOK_SERVE_MAX_BATCH_LINES": "30",
        "RULEBOOK_SERVE_MAX_DEPTH": "4",
        "RULEBOOK_SERVE_MAX_CONCURRENCY": "5",
        "RULEBOOK_SERVE_REQUEST_TIMEOUT": "2.5",
        "RULEBOOK_SERVE_TOKENS": "one, two",
        "RULEBOOK_SERVE_TOKENS_FILE": str(tokens),
        "RULEBOOK_SERVE_CORS": "https://a.example,https://b.example",
        "RULEBOOK_SERVE_MASKED_FIELDS": "name,phone",
        "RULEBOOK_SERVE_DECISION_LOG": "0",
        "RULEBOOK_SERVE_METRICS_OPEN": "yes",
    }
    config = ServeConfig.from_env(env)
    assert config == ServeConfig(
        rulebook_paths=(Path("a"), Path("b/c.yaml")),
        lang="en",
        max_body_bytes=10,
        max_batch_bytes=20,
        max_batch_lines=30,
        max_depth=4,
        max_concurrency=5,
        request_timeout_s=2.5,
        tokens=frozenset({"one", "two", "from-file", "second"}),
        cors_origins=("https://a.example", "https://b.example"),
        masked_fields=("name", "phone"),
        decision_log=False,
        metrics_open=True,
    )
    assert ServeConfig.from_env(env, max_depth=9, tokens={"x"}).max_depth == 9


def test_to_env_round_trips() -> None:
    for config in (
        ServeConfig(),
        ServeConfig(
            rulebook_paths=(Path("x"), Path("y")),
            lang="en",
            tokens=frozenset({"t1", "t2"}),
            cors_origins=("https://a.example",),
            request_timeout_s=0.25,
            masked_fields=(),
            decision_log=False,
            metrics_open=True,
        ),
    ):
        env = config.to_env()
        assert all(k.startswith("RULEBOOK_SERVE_") and isinstance(v, str) for k, v in env.items())
        assert ServeConfig.from_env(env) == config


@pytest.mark.parametrize(
    ("variable", "value"),
    [
        ("RULEBOOK_SERVE_MAX_DEPTH", "deep"),
        ("RULEBOOK_SERVE_MAX_CONCURRENCY", "0"),
        ("RULEBOOK_SERVE_LANG", "fr"),
        ("RULEBOOK_SERVE_REQUEST_TIMEOUT", "-1"),
        ("RULEBOOK_SERVE_DECISION_LOG", "perhaps"),
        ("RULEBOOK_SERVE_TOKENS_FILE", "/nonexistent/tokens"),
    ],
)
def test_a_value_that_cannot_be_read_is_a_usage_error(variable: str, value: str) -> None:
    with pytest.raises(UsageError) as e:
        ServeConfig.from_env({variable: value})
    assert e.value.diagnostics[0].code == "serve.config"
    assert variable in e.value.render("en") or "tokens" in e.value.render("en")
    assert e.value.render("zh") != e.value.render("en")
