"""map_in_threads: the node store's codec runs on it (common/threads.py)."""
import os
import threading
import time

import pytest

from copc_builder.algorithms.common.threads import map_in_threads, set_threads


@pytest.mark.parametrize("threads", [1, 2, 3, 8])
@pytest.mark.parametrize("count", [0, 1, 2, 7, 50])
def test_results_in_order_and_each_item_once(threads, count):
    seen = []
    lock = threading.Lock()

    def square(i):
        with lock:
            seen.append(i)
        time.sleep(0.001 * (i % 3))   # finishing out of order
        return i * i

    assert map_in_threads(square, list(range(count)), threads) == [i * i for i in range(count)]
    assert sorted(seen) == list(range(count))


@pytest.mark.parametrize("threads", [1, 2, 3])
def test_at_most_threads_at_once(threads):
    running, most = [0], [0]
    lock = threading.Lock()

    def work(_):
        with lock:
            running[0] += 1
            most[0] = max(most[0], running[0])
        time.sleep(0.01)
        with lock:
            running[0] -= 1

    map_in_threads(work, list(range(12)), threads)
    assert most[0] <= threads
    if threads > 1 and (os.cpu_count() or 1) > 1:
        assert most[0] >= 2   # the work did run beside the caller


def test_one_thread_runs_in_the_caller():
    names = map_in_threads(lambda _: threading.current_thread().name, list(range(5)), 1)
    assert set(names) == {threading.current_thread().name}


@pytest.mark.parametrize("threads", [1, 2])
def test_the_error_is_raised_and_nothing_starts_after_it(threads):
    started = []

    def work(i):
        started.append(i)
        if i == 3:
            raise ValueError("item 3")
        time.sleep(0.005)
        return i

    with pytest.raises(ValueError, match="item 3"):
        map_in_threads(work, list(range(40)), threads)
    assert 3 in started and len(started) < 40
    if threads == 1:
        assert started == [0, 1, 2, 3]


def test_a_forked_child_gets_a_pool_of_its_own():
    """The parent's pool threads do not exist in a forked child: it must not wait for them."""
    map_in_threads(lambda i: i, list(range(8)), 2)   # the parent's pool exists
    pid = os.fork()
    if pid == 0:   # the child: exit 0 only if the map completes
        try:
            ok = map_in_threads(lambda i: i + 1, list(range(8)), 2) == list(range(1, 9))
        finally:
            os._exit(0 if ok else 3)
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        done, status = os.waitpid(pid, os.WNOHANG)
        if done:
            assert os.waitstatus_to_exitcode(status) == 0
            return
        time.sleep(0.05)
    os.kill(pid, 9)
    os.waitpid(pid, 0)
    pytest.fail("the forked child's map_in_threads hung")


def test_kernel_threads_follow_set_threads():
    from copc_builder.algorithms.common.threads import kernel_threads

    with set_threads(1):
        assert kernel_threads() == 1
    assert kernel_threads() >= 1
