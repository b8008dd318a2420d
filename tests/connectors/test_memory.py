"""`connectors.memory.fewer_collections`: raised collector thresholds while pages are
processed, put back when the last block ends, overlapping blocks (several resources paging
at once) included."""

import gc

import pytest

from connectors.http import prefetch
from connectors.memory import THRESHOLD, fewer_collections


@pytest.fixture
def default_thresholds():
    saved = gc.get_threshold()
    gc.set_threshold(700, 10, 10)
    yield
    gc.set_threshold(*saved)


def test_thresholds_are_raised_inside_and_restored_after(default_thresholds):
    with fewer_collections():
        assert gc.get_threshold() == THRESHOLD
    assert gc.get_threshold() == (700, 10, 10)


def test_overlapping_blocks_restore_only_after_the_last(default_thresholds):
    first, second = fewer_collections(), fewer_collections()
    first.__enter__()
    second.__enter__()
    first.__exit__(None, None, None)
    assert gc.get_threshold() == THRESHOLD
    second.__exit__(None, None, None)
    assert gc.get_threshold() == (700, 10, 10)


def test_higher_thresholds_and_a_disabled_collector_are_left_alone(default_thresholds):
    gc.set_threshold(0)
    with fewer_collections():
        assert gc.get_threshold()[0] == 0
    gc.set_threshold(10**6, 10, 10)
    with fewer_collections():
        assert gc.get_threshold() == (10**6, THRESHOLD[1], THRESHOLD[2])
    assert gc.get_threshold() == (10**6, 10, 10)


def test_prefetch_raises_them_while_it_runs_even_when_abandoned(default_thresholds):
    pages = prefetch(iter(range(3)))
    assert next(pages) == 0
    assert gc.get_threshold() == THRESHOLD
    pages.close()
    assert gc.get_threshold() == (700, 10, 10)
    assert list(prefetch(iter(range(3)))) == [0, 1, 2]
    assert gc.get_threshold() == (700, 10, 10)


def test_freed_memory_goes_back_to_the_system_once_paging_starts():
    import platform

    from connectors.memory import trimmed_heap

    assert list(prefetch(iter(range(2)))) == [0, 1]
    assert trimmed_heap() is (platform.libc_ver()[0] == "glibc")
    assert trimmed_heap() is trimmed_heap()  # once per process, then unchanged
    if trimmed_heap():
        import pyarrow as pa

        assert pa.default_memory_pool().backend_name == "system"
