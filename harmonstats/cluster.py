"""Independent per-scan tasks on a Dask distributed cluster: one place for both runners.

``harmonstats measure`` and ``harmonstats segment`` take ``--scheduler tcp://host:port`` (in
Python, ``scheduler=`` an address or a ``distributed.Client``). Both hand their tasks to
:func:`map_unordered` inside :func:`connect`; the calling process receives each result as it
arrives and writes it (cache entry, label map), so a cluster's workers write nothing, and an
interrupted run keeps every result that had arrived. Workers read their inputs by path: the
study (and the checkpoints) must lie on a file system the workers see under the same paths.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Iterator, Sequence
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from typing import TYPE_CHECKING, Any

from harmonstats.errors import InputError

if TYPE_CHECKING:
    from distributed import Client

__all__ = ["connect", "map_unordered"]


def _connect_timeout() -> float:
    """Dask's connect timeout, seconds (``distributed.comm.timeouts.connect``, 30 s)."""
    import dask
    from dask.utils import parse_timedelta

    return float(parse_timedelta(dask.config.get("distributed.comm.timeouts.connect")))


async def _probe(address: str, timeout: float) -> None:
    """Open and close one connection to ``address``."""
    from distributed.comm import connect as comm_connect

    comm = await comm_connect(address, timeout=timeout)
    await comm.close()


def _client(address: str) -> Client:
    from distributed import Client

    # A Client whose first connection fails is left half made and complains again when it is
    # garbage-collected; a bare connection first turns every such failure into one line.
    # In its own thread, so that it also runs where an event loop is running (Jupyter).
    with ThreadPoolExecutor(1) as pool:
        probe = pool.submit(asyncio.run, _probe(address, _connect_timeout()))
    try:
        probe.result()
    except (OSError, ValueError, TypeError) as exc:
        why = " ".join(str(exc).split()) or type(exc).__name__
        raise InputError(f"Dask scheduler {address!r}: cannot connect ({why}); is a scheduler "
                         "running there?") from None
    return Client(address, set_as_default=False)


@contextmanager
def connect(scheduler: str | Client) -> Iterator[Client]:
    """A client of ``scheduler`` with at least one worker; one opened here is closed after.

    Parameters
    ----------
    scheduler : str or distributed.Client
        Scheduler address (``tcp://host:8786``) or a client the caller owns (left open).

    Raises
    ------
    InputError
        If the address cannot be reached, or no worker joins within dask's connect timeout
        (``distributed.comm.timeouts.connect``, 30 s by default).
    TypeError
        If ``scheduler`` is neither an address nor a client.
    """
    from distributed import Client

    if isinstance(scheduler, str):
        client = _client(scheduler)
        own = True
    elif isinstance(scheduler, Client):
        client, own = scheduler, False
    else:
        raise TypeError(f"scheduler must be an address string or a distributed.Client, got "
                        f"{type(scheduler).__name__}")
    try:
        try:
            client.wait_for_workers(1, timeout=_connect_timeout())
        except TimeoutError:
            raise InputError(f"Dask scheduler {client.scheduler.address}: no worker joined; "
                             "start some (dask worker ADDRESS)") from None
        yield client
    finally:
        if own:
            client.close()


def map_unordered(client: Client, func: Callable[[Any], Any],
                  items: Sequence[Any]) -> Iterator[tuple[int, Any]]:
    """``(index, func(items[index]))`` for every item, in the order the results arrive.

    Each item is one task (``pure=False``: never merged with an equal one). Tasks not yet
    finished when the caller stops iterating (an error, Ctrl-C) are cancelled, so the cluster
    does not go on with work nobody will collect. An exception raised by a task is raised
    here, with its own type and message.
    """
    from distributed import as_completed

    futures = client.map(func, list(items), pure=False)
    index = {f.key: i for i, f in enumerate(futures)}
    # Only the futures still to collect are held: a result handed over is released on the
    # cluster (a cohort's label maps would otherwise pile up in the workers' memory).
    pending = {f.key: f for f in futures}
    arriving = as_completed(futures, loop=client.loop)  # not the default client's loop
    del futures
    try:
        for future in arriving:
            key = future.key
            result = future.result()
            del pending[key], future
            yield index[key], result
    finally:
        client.cancel(list(pending.values()))
