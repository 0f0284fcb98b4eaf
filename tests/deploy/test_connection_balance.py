"""deploy/connection_balance.py's rule and board, in one process (the
workers that share it for real: tests/deploy/test_gthread_worker.py)."""
import os
import time
from unittest import mock

from hypothesis import given
from hypothesis import strategies as st

from deploy import connection_balance
from deploy.connection_balance import Board, may_take


class Worker:
    """What the board knows of a gunicorn worker: its pid, once forked."""

    def __init__(self, pid="[booting]"):
        self.pid = pid


def seated_board(*connections):
    """A board whose workers (seats 0, 1, ...) hold these connections and can all take one."""
    board = Board(seats=8)
    for seat, held in enumerate(connections):
        worker = Worker()
        worker.seat = board.seat_for(worker)
        board.report(worker.seat, held, busy_since=0.0)
    return board


FREE, BUSY = True, False


def test_a_worker_with_a_free_thread_takes_a_connection_unless_another_holds_fewer():
    assert may_take(3, [])
    assert may_take(3, [(3, FREE), (4, BUSY)])
    assert not may_take(4, [(3, BUSY), (9, FREE)])


def test_a_busy_worker_takes_a_connection_only_to_even_out_the_count():
    assert may_take(2, [(5, FREE), (3, BUSY)], free_thread=False)
    assert may_take(2, [(2, BUSY), (3, FREE)], free_thread=False)
    assert not may_take(2, [(2, FREE)], free_thread=False)  # the free one first
    assert not may_take(2, [], free_thread=False)           # alone: it waits for a thread


@given(st.lists(st.tuples(st.integers(min_value=0, max_value=1000), st.booleans()), min_size=1, max_size=16)
       .filter(lambda workers: any(free for _, free in workers)))
def test_while_some_worker_has_a_free_thread_some_worker_may_take_a_connection(workers):
    assert any(may_take(held, workers[:i] + workers[i + 1:], free) for i, (held, free) in enumerate(workers))


def test_the_board_compares_with_the_other_seats_only():
    board = seated_board(5, 2, 5)
    assert board.may_take(1, 2)
    assert not board.may_take(0, 5)


def test_the_board_tells_a_busy_worker_which_workers_have_a_free_thread():
    board = seated_board(5, 5)
    board.report(1, 5, busy_since=time.monotonic())
    assert board.may_take(1, 5, free_thread=False) is False  # seat 0 holds as many and has a free thread
    board.report(0, 6, busy_since=0.0)
    assert board.may_take(1, 5, free_thread=False)


def test_a_stopping_worker_holds_nobody_back():
    board = seated_board(5, 2)
    board.report(1, 2, busy_since=0.0, stopping=True)
    assert board.may_take(0, 5)


def test_a_worker_whose_threads_are_all_busy_holds_the_others_back_for_busy_grace_only():
    board = seated_board(5, 2)
    board.report(1, 2, busy_since=time.monotonic())  # every thread busy: a burst, or a slow database
    assert not board.may_take(0, 5)
    later = time.monotonic() + connection_balance.BUSY_GRACE + 0.01
    with mock.patch.object(connection_balance.time, "monotonic", return_value=later):
        assert board.may_take(0, 5)


def test_a_worker_that_stopped_looking_holds_nobody_back_after_stale_after():
    board = seated_board(5, 2)
    later = time.monotonic() + connection_balance.STALE_AFTER + 0.01
    with mock.patch.object(connection_balance.time, "monotonic", return_value=later):
        assert board.may_take(0, 5)


def test_a_reaped_worker_frees_its_seat_and_holds_nobody_back():
    board = Board(seats=8)
    busy, gone = Worker(), Worker()
    busy.seat, gone.seat = board.seat_for(busy), board.seat_for(gone)
    board.report(busy.seat, 5, busy_since=0.0)
    board.report(gone.seat, 0, busy_since=0.0)
    board.release(gone)
    assert board.may_take(busy.seat, 5)
    assert board.seat_for(Worker()) == gone.seat


def test_a_seat_whose_worker_died_unreaped_is_handed_out_again():
    board = Board(seats=2)
    dead, alive = Worker(), Worker()
    assert (board.seat_for(dead), board.seat_for(alive)) == (0, 1)
    dead.pid, alive.pid = 2**22 + 1, os.getpid()  # forked; the first beyond Linux's largest pid_max
    assert board.seat_for(Worker()) == 0


def test_a_worker_beyond_the_last_seat_gets_none():
    board = Board(seats=1)
    board.seat_for(Worker())
    assert board.seat_for(Worker()) is None
