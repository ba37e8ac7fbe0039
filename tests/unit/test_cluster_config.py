"""`[cluster]` in streams.toml: a single node without it, clear problems with a bad one, the secret never shown."""

from __future__ import annotations

import pytest

from hub.config import ConfigError, parse_config
from hub.config.cluster import advertised

SECRET = "s3cret-for-nodes-0123456789"


def test_no_cluster_table_is_a_single_node():
    assert not parse_config("").cluster.enabled


def test_a_cluster_node_reads_its_name_address_and_secret_from_the_environment():
    config = parse_config('[cluster]\nredis = "redis://127.0.0.1:6390/0"\nnode = "n1"\n', env={"HUB_CLUSTER_SECRET": SECRET})
    assert config.cluster.enabled and config.cluster.node == "n1" and config.cluster.secret == SECRET
    assert SECRET not in repr(config), "the secret is never shown"


@pytest.mark.parametrize(
    ("table", "env", "problem"),
    [
        ('redis = "http://x:1"', {"HUB_CLUSTER_SECRET": SECRET}, "expected a redis://"),
        ('redis = "redis://x:1"\nnode = "bad name!"', {"HUB_CLUSTER_SECRET": SECRET}, "a node name is"),
        ('redis = "redis://x:1"', {}, "HUB_CLUSTER_SECRET must hold"),
        ('redis = "redis://x:1"\nsecret_env = "MY_SECRET"', {"MY_SECRET": "short"}, "MY_SECRET must hold"),
        ('redis = "redis://x:1"\ncapacity = 5', {"HUB_CLUSTER_SECRET": SECRET}, "unknown key"),
        ('redis = "redis://x:1"\nadvertise = "node-b"', {"HUB_CLUSTER_SECRET": SECRET}, "expected host:port"),
    ],
)
def test_a_bad_cluster_table_gets_one_clear_line(table, env, problem):
    with pytest.raises(ConfigError) as error:
        parse_config(f"[cluster]\n{table}\n", env=env)
    assert any(problem in line and "[cluster]" in line for line in error.value.problems), error.value.problems


def test_a_node_is_reached_where_it_serves_unless_told_otherwise():
    settings = parse_config('[cluster]\nredis = "redis://x:1"\n', env={"HUB_CLUSTER_SECRET": SECRET}).cluster
    assert advertised(settings, "127.0.0.1", 8080) == "127.0.0.1:8080"
    assert advertised(settings, "::1", 8080) == "[::1]:8080"
    assert advertised(settings, "0.0.0.0", 8080).endswith(":8080") and not advertised(settings, "0.0.0.0", 8080).startswith("0.")
    told = parse_config('[cluster]\nredis = "redis://x:1"\nadvertise = "hub-b.lan:8443"\n', env={"HUB_CLUSTER_SECRET": SECRET})
    assert advertised(told.cluster, "0.0.0.0", 8080) == "hub-b.lan:8443"


def test_a_password_in_the_redis_address_is_not_echoed():
    with pytest.raises(ConfigError) as error:
        parse_config('[cluster]\nredis = "http://u:hunter2pass@x:1"\n', env={"HUB_CLUSTER_SECRET": SECRET})
    assert "hunter2pass" not in "\n".join(error.value.problems)
