"""One resolved spec (issue 24): the requests are made of the one Resources model and its rules, the
admin's defaults apply first and everything is validated once, handlers parse bodies into the models
they document, and a user's mistake is a domain error (400) while a pydantic error is the server's."""

import inspect
import os

import pytest
from IPython.core.error import UsageError
from pydantic import ValidationError

from tritonml_lab.jobs.errors import InvalidRequest
from tritonml_lab.jobs.resources import Resources, check_workdir, job_python
from tritonml_lab.jobs.script import render_script
from tritonml_lab.jobs.spec import Defaults, JobSpec, checked, compose, field_errors, parse, resolve
from tritonml_lab.kernel import values
from tritonml_lab.notebooks.request import NotebookJobRequest
from tritonml_lab.server import handlers
from tritonml_lab.server.api_models import JobRequest, SweepSubmit
from tritonml_lab.server.handlers.base import BaseHandler, status_for
from tritonml_lab.server.handlers.contract import operation_of
from tritonml_lab.sweeps.request import SweepRequest, SweepRetry

DEFAULTS = Defaults(partition="gpu-debug", time="00:10:00", mem="4g", sampler_python=None)
# The smallest valid request of each kind, to which a test adds what it checks.
REQUESTS = {
    JobRequest: {"command": "true"},
    NotebookJobRequest: {"path": "nb.ipynb"},
    SweepSubmit: {"code": "print(x)", "grid": {"x": [1, 2]}},
    SweepRetry: {},
}


def test_the_requests_are_made_of_resources_not_of_a_job_spec():
    for model in (NotebookJobRequest, SweepRequest, SweepRetry):
        assert issubclass(model, Resources) and not issubclass(model, JobSpec), model
    # The one set of rules: every request model runs the very same validator functions.
    def functions(model, names):
        found = model.__pydantic_decorators__.field_validators
        return {name: getattr(found[name].func, "__func__", found[name].func) for name in names}

    rules = list(Resources.__pydantic_decorators__.field_validators)
    assert {"_time", "_gpus", "_size", "_env"} <= set(rules)
    for model in REQUESTS:
        assert functions(model, rules) == functions(Resources, rules), model
        assert set(Resources.model_fields) <= set(model.model_fields), model


@pytest.mark.parametrize("model", list(REQUESTS), ids=lambda m: m.__name__)
def test_a_bad_value_gives_the_same_field_error_in_every_request(model):
    expected = None
    for field, value in (("time", "soon"), ("gpus", "many"), ("workdir", "/tmp/a#b"), ("mem", "lots")):
        with pytest.raises(InvalidRequest) as info:
            parse(model, {**REQUESTS[model], field: value}, DEFAULTS)
        errors = [e for e in info.value.fields if e["field"] == field]
        with pytest.raises(ValidationError) as plain:
            JobSpec.model_validate({"command": "true", field: value})
        expected = [e for e in field_errors(plain.value) if e["field"] == field]
        assert errors == expected and expected, (model, field)


def test_keys_a_request_does_not_take_are_refused_with_why():
    for model, key, words in ((NotebookJobRequest, "code", "the notebook is what runs"),
                              (SweepRequest, "array", "the sweep makes the array"),
                              (SweepRetry, "script", "cannot be changed on retry")):
        with pytest.raises(InvalidRequest) as info:
            parse(model, {**REQUESTS.get(model, {"code": "x", "grid": {"x": [1]}}), key: "x", "surprise": 1})
        by_field = {e["field"]: e["message"] for e in info.value.fields}
        assert words in by_field[key] and by_field["surprise"] == "unknown field", by_field
        assert key not in model.model_json_schema()["properties"]


@pytest.mark.parametrize("model", list(REQUESTS)[:3], ids=lambda m: m.__name__)
def test_the_defaults_apply_first(model):
    # No time of its own: a warn within the site's default time is fine, one past it is not.
    fine = parse(model, {**REQUESTS[model], "checkpoint": {"warn": "5m"}}, DEFAULTS)
    assert fine.time is None and fine.partition is None  # the user's own values are kept
    with pytest.raises(InvalidRequest) as info:
        parse(model, {**REQUESTS[model], "checkpoint": {"warn": "15m"}}, DEFAULTS)
    assert "time limit (00:10:00, the site's default" in info.value.message
    # ... and with a time of its own, that is what counts.
    assert parse(model, {**REQUESTS[model], "time": "1:00:00", "checkpoint": {"warn": "15m"}}, DEFAULTS)


def test_validated_once_then_the_defaults_are_filled_in(monkeypatch):
    request = parse(NotebookJobRequest, {"path": "nb.ipynb", "checkpoint": {"warn": "5m"}, "gpus": "1"}, DEFAULTS)
    calls = []
    for model in (JobSpec, NotebookJobRequest):
        real = model.model_validate.__func__
        monkeypatch.setattr(model, "model_validate",
                            classmethod(lambda cls, *a, _real=real, **k: calls.append(cls) or _real(cls, *a, **k)))
    spec = compose(JobSpec, request, script="true")
    resolved = resolve(spec, DEFAULTS)
    script = render_script(spec, DEFAULTS, "/jobs/job-1")
    assert calls == []  # composed, resolved and rendered without a second validation
    assert (resolved.partition, resolved.time, resolved.mem, resolved.gpus) == ("gpu-debug", "00:10:00", "4G", "1")
    assert spec.partition is None and spec.model_dump(exclude_unset=True).keys() == {"checkpoint", "gpus", "script"}
    assert "#SBATCH --partition=gpu-debug    # site default" in script
    # A spec validated without the defaults (the kernel's stored sweep spec, a test) is checked with them once.
    bare = JobSpec(command="true", checkpoint={"warn": "15m"})
    with pytest.raises(InvalidRequest):
        resolve(bare, DEFAULTS)
    with pytest.raises(InvalidRequest):
        checked(bare, DEFAULTS)
    assert calls == [JobSpec, JobSpec]


def test_other_defaults_are_checked_again():
    spec = parse(JobSpec, {"command": "true", "checkpoint": {"warn": "5m"}}, DEFAULTS)
    with pytest.raises(InvalidRequest):
        resolve(spec, Defaults(time="00:01:00", sampler_python=None))


def test_one_workdir_rule_for_the_api_and_the_magics(monkeypatch):
    class Args:
        env, module, name, wandb = [], [], None, None
        partition = gpus = cpus = mem = time = nodes = ntasks_per_node = constraint = gres = tmp = None
        account = qos = None

    def workdir_of(given):
        args = Args()
        args.workdir = given
        return values.resource_fields(args)["workdir"]

    for bad in ("/tmp/a#b", "/tmp/a b", "relative", "/tmp/$HOME"):
        with pytest.raises(ValueError) as rule:
            check_workdir(bad)
        with pytest.raises(UsageError) as magic:
            workdir_of(bad)
        assert str(rule.value) in str(magic.value) and "--workdir" in str(magic.value)
        with pytest.raises(InvalidRequest) as api:
            parse(JobSpec, {"command": "true", "workdir": bad})
        assert api.value.fields == [{"field": "workdir", "message": str(rule.value)}]
    assert workdir_of("/scratch/u/run(1)") == "/scratch/u/run(1)"  # the rule's, not a second list's
    monkeypatch.chdir("/")
    assert workdir_of(None) == "/"
    monkeypatch.setattr(os, "getcwd", lambda: "/home/u/my notebooks")
    assert workdir_of(None) is None  # the job directory: the notebook's folder cannot be --chdir


def test_one_choice_of_the_jobs_python():
    assert job_python("/opt/py/bin/python", Defaults(python="python3.11")) == "/opt/py/bin/python"
    assert job_python(None, Defaults(python="python3.11")) == "python3.11"
    assert job_python(None, Defaults()) == "python3"
    script = render_script(JobSpec(code="print(1)"), Defaults(python="python3.11", sampler_python=None), "/jobs/j")
    assert "python3.11 /jobs/j/main.py" in script


def test_every_body_is_parsed_into_the_model_its_endpoint_documents():
    documented = []
    for _pattern, handler in handlers.ROUTES:
        for name in ("post", "put", "patch", "delete", "get"):
            method = vars(handler).get(name)
            operation = operation_of(method) if method else None
            if operation is None:
                continue
            source = inspect.getsource(inspect.unwrap(method))
            if operation.body is not None:
                documented.append(operation.body)
                # BaseHandler.body parses into operation.body: the description is what is parsed.
                assert "await self.body(" in source, (handler, name)
            assert "json_object(" not in source, (handler, name)
    assert {JobRequest, NotebookJobRequest, SweepSubmit, SweepRetry} <= set(documented)
    assert "operation.body" in inspect.getsource(BaseHandler.body)


def test_a_user_mistake_is_a_domain_error_and_a_pydantic_error_is_the_servers():
    with pytest.raises(ValidationError) as internal:
        JobSpec.model_validate({"gpus": "many"})
    assert status_for(internal.value) is None  # -> a logged 500 with a generic message
    mistake = InvalidRequest.of(internal.value)
    assert status_for(mistake) == 400 and [e["field"] for e in mistake.fields] == ["gpus"]
    assert mistake.message.startswith("Invalid job: gpus: ")
