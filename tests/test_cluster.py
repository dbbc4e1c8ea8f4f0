"""harmonstats.cluster on a real (in-process) Dask cluster: results, errors, nothing left over."""

from __future__ import annotations

import time
from collections.abc import Iterator

import dask
import pytest
from distributed import Client, LocalCluster

from harmonstats.cluster import connect, map_unordered
from harmonstats.errors import InputError


@pytest.fixture(scope="module")
def client() -> Iterator[Client]:
    with LocalCluster(n_workers=2, threads_per_worker=1, processes=False,
                      dashboard_address=None) as cluster, Client(cluster) as c:
        yield c


def _square(x: int) -> int:
    if x < 0:
        raise InputError(f"value {x}: negative")
    return x * x


def _tasks_left(client: Client) -> int:
    """Tasks the scheduler still holds, once releases have had up to 5 s to arrive."""
    deadline = time.monotonic() + 5
    while True:
        left = client.run_on_scheduler(lambda dask_scheduler: len(dask_scheduler.tasks))
        if left == 0 or time.monotonic() > deadline:
            return int(left)
        time.sleep(0.05)


def test_every_result_once_with_its_index(client: Client) -> None:
    items = [3, 1, 4, 1, 5]  # equal items stay separate tasks
    assert sorted(map_unordered(client, _square, items)) == [
        (i, x * x) for i, x in enumerate(items)]
    assert _tasks_left(client) == 0  # collected results are released on the cluster


def test_stopping_early_cancels_the_rest(client: Client) -> None:
    results = map_unordered(client, _square, list(range(20)))
    next(results)
    results.close()
    assert _tasks_left(client) == 0


def test_a_task_error_keeps_its_type_and_message(client: Client) -> None:
    with pytest.raises(InputError, match="value -2: negative"):
        list(map_unordered(client, _square, [1, -2, 3]))
    assert _tasks_left(client) == 0


def test_a_client_given_is_left_open_and_an_address_is_closed(client: Client) -> None:
    with connect(client) as same:
        assert same is client
    assert client.status == "running"
    with connect(client.scheduler.address) as own:
        assert own is not client and sorted(map_unordered(own, _square, [2])) == [(0, 4)]
    assert own.status == "closed"
    with pytest.raises(TypeError, match=r"address string or a distributed\.Client"):
        with connect(8786):  # type: ignore[arg-type]
            pass


def test_a_scheduler_without_workers_is_one_line() -> None:
    with LocalCluster(n_workers=0, processes=False, dashboard_address=None) as cluster, \
            dask.config.set({"distributed.comm.timeouts.connect": "0.3s"}):
        with pytest.raises(InputError, match="no worker joined"), connect(
                cluster.scheduler_address):
            pass
