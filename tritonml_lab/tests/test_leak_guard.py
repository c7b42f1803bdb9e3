"""The leak guard (leak_guard.py) at work: deliberately leaking tests, run by a pytest of their own
with only the guard loaded, fail; clean ones, and one whose thread ends within the grace, pass."""

import os
import subprocess
import sys
import xml.etree.ElementTree as ET

LEAKY_TESTS = '''
import socket, subprocess, sys, threading, time
import pytest

_keep = []

def test_leaks_a_thread():
    threading.Thread(target=time.sleep, args=(60,), name="leaky-thread", daemon=True).start()

def test_leaks_a_child_process():
    _keep.append(subprocess.Popen([sys.executable, "-c", "import time; time.sleep(60)"]))

def test_leaks_a_listening_socket():
    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    s.listen()
    _keep.append(s)

def test_leaks_a_connection():
    server = socket.socket()
    server.bind(("127.0.0.1", 0))
    server.listen()
    client = socket.create_connection(server.getsockname())
    peer, _ = server.accept()
    server.close()
    _keep.extend([client, peer])

def test_clean():
    threading.Thread(target=time.sleep, args=(0.01,)).start()
    subprocess.run([sys.executable, "-c", "pass"], check=True)

def test_a_thread_that_ends_within_the_grace_is_no_leak():
    threading.Thread(target=time.sleep, args=(0.3,), name="short").start()

@pytest.mark.leaks_allowed
def test_marked_leaks_allowed():
    threading.Thread(target=time.sleep, args=(60,), name="allowed", daemon=True).start()

@pytest.fixture(scope="module")
def module_thread():
    stop = threading.Event()
    t = threading.Thread(target=stop.wait, name="module-owned", daemon=True)
    t.start()
    yield t
    stop.set()
    t.join()

def test_module_fixture_threads_are_the_modules_1(module_thread):
    assert module_thread.is_alive()

def test_module_fixture_threads_are_the_modules_2(module_thread):
    assert module_thread.is_alive()
'''

PARSING_TESTS = '''
import ast, threading, time
import pytest

def test_leaves_a_thread_compiling():
    def busy():
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            compile("x = 1", "s", "exec")
    threading.Thread(target=busy, name="compiler", daemon=True).start()

@pytest.mark.source_parsing
def test_parses_source():
    ast.parse("x = 1")
'''


def run_guarded(tmp_path, source):
    (tmp_path / "test_leaky.py").write_text(source)
    env = {**os.environ, "TRITONML_LEAK_GUARD": "fail", "TRITONML_LEAK_GRACE": "1", "PYTHONDONTWRITEBYTECODE": "1"}
    env.pop("TRITONML_LEAK_LOG", None)
    result = subprocess.run(
        [sys.executable, "-m", "pytest", "-p", "tritonml_lab.tests.leak_guard", "-p", "no:cacheprovider",
         "-p", "no:xdist", "-o", "addopts=", "--rootdir", str(tmp_path), "--junitxml", str(tmp_path / "r.xml"),
         str(tmp_path / "test_leaky.py")],
        cwd=tmp_path, env=env, capture_output=True, text=True, timeout=120)
    outcomes = {}
    for case in ET.parse(tmp_path / "r.xml").getroot().iter("testcase"):
        bad = case.find("error") if case.find("error") is not None else case.find("failure")
        outcomes[case.get("name")] = (bad.get("message") or "") + (bad.text or "") if bad is not None else "passed"
    return result, outcomes


def test_leaking_tests_fail_and_clean_ones_pass(tmp_path):
    result, outcomes = run_guarded(tmp_path, LEAKY_TESTS)
    assert result.returncode == 1, result.stdout + result.stderr
    assert "thread 'leaky-thread'" in outcomes["test_leaks_a_thread"]
    assert "child process" in outcomes["test_leaks_a_child_process"]
    assert "(killed)" in outcomes["test_leaks_a_child_process"]
    assert "TCP socket LISTEN" in outcomes["test_leaks_a_listening_socket"]
    assert "TCP socket CONNECTED" in outcomes["test_leaks_a_connection"]
    for name in ("test_clean", "test_a_thread_that_ends_within_the_grace_is_no_leak", "test_marked_leaks_allowed",
                 "test_module_fixture_threads_are_the_modules_1", "test_module_fixture_threads_are_the_modules_2"):
        assert outcomes[name] == "passed", (name, outcomes[name])


def test_a_source_parsing_test_does_not_run_beside_a_compiling_thread(tmp_path):
    result, outcomes = run_guarded(tmp_path, PARSING_TESTS)
    assert result.returncode == 1
    assert "thread 'compiler'" in outcomes["test_leaves_a_thread_compiling"]
    assert "needs no other threads" in outcomes["test_parses_source"] and "compiler" in outcomes["test_parses_source"]
