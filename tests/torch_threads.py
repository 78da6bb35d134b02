"""The autouse fixture that sgd test modules import: one torch thread per test."""
import pytest


@pytest.fixture(autouse=True)
def one_torch_thread():
    # Tiny tensors gain nothing from threads, and on a busy 2-core machine torch's
    # threads can make them 100x slower. Set per test: the first threaded numba
    # kernel resets torch's thread count.
    torch = pytest.importorskip("torch")
    old = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(old)
