"""The GIL is released during device work: two Python threads driving two boards run at the
same time. Shown by the calls' time intervals overlapping (robust on a loaded machine, unlike a
speed-up threshold); the speed-up is printed for the record."""

import threading
import time

import numpy as np

import kelvin


def test_two_threads_drive_two_boards_in_parallel():
    A = np.diag(np.linspace(1.0, 3.0, 8))
    b = np.ones(8)
    boards = [kelvin.open(f"sim:resonator?cells=8&seed={s}") for s in (11, 12)]
    options = dict(batches=40, batch_relaxation_times=4000)

    start = time.perf_counter()
    for board in boards:
        kelvin.solve(board, A, b, **options)
    sequential = time.perf_counter() - start

    intervals = [None, None]

    def run(k):
        t0 = time.perf_counter()
        kelvin.solve(boards[k], A, b, **options)
        intervals[k] = (t0, time.perf_counter())

    threads = [threading.Thread(target=run, args=(k,)) for k in (0, 1)]
    start = time.perf_counter()
    for t in threads:
        t.start()
    # The main thread keeps running Python while both solves are in flight.
    ticks = 0
    while any(t.is_alive() for t in threads):
        ticks += 1
        time.sleep(0.001)
    parallel = time.perf_counter() - start
    (a0, a1), (b0, b1) = intervals
    overlap = min(a1, b1) - max(a0, b0)
    print(f"sequential {sequential:.3f} s, two threads {parallel:.3f} s, "
          f"ratio {parallel / sequential:.2f}, overlap {overlap:.3f} s, main-thread ticks {ticks}")
    # With the GIL held the second call could not start before the first returned.
    assert overlap > 0.25 * min(a1 - a0, b1 - b0)
    assert ticks > 5
    for board in boards:
        board.close()


def test_one_board_shared_by_two_threads_takes_turns():
    A, b = np.diag([1.0, 2.0]), np.ones(2)
    with kelvin.open("sim:resonator?cells=2&seed=13") as board:
        results, errors = [], []

        def run():
            try:
                results.append(kelvin.solve(board, A, b, batches=8).x)
            except Exception as e:  # pragma: no cover - the assertion shows it
                errors.append(e)

        threads = [threading.Thread(target=run) for _ in range(4)]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
    assert not errors and len(results) == 4
    for x in results:
        assert np.all(np.abs(x - [1.0, 0.5]) < 0.1)
