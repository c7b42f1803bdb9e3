"""Usage snippets."""
import shlex

from tritonml_lab.catalog import Catalog
from tritonml_lab.tests.sample_tree import generate_sample


def _cat(tmp_path, name="dldata"):
    root = tmp_path / name
    generate_sample(str(root))
    return Catalog([("dldata", str(root))], cache_path="", workers=0), str(root)


def test_hf_snippet_env_before_import(tmp_path):
    c, root = _cat(tmp_path)
    s = c.get("dldata/huggingface-hub-cache/hub/models--meta-llama--Meta-Llama-3-8B").snippets
    py = s.python
    home = root + "/huggingface-hub-cache"
    assert f'os.environ["HF_HOME"] = {home!r}' in py
    i_import = py.index("from transformers import")
    for var in ("HF_HOME", "HF_HUB_OFFLINE", "TRANSFORMERS_OFFLINE"):
        assert py.index(f'os.environ["{var}"]') < i_import
    assert "AutoModelForCausalLM.from_pretrained(model_id" in py and "'meta-llama/Meta-Llama-3-8B'" in py
    compile(py, "snippet", "exec")
    assert f"export HF_HOME={shlex.quote(home)}" in s.batch
    assert "export HF_HUB_OFFLINE=1" in s.batch and "export TRANSFORMERS_OFFLINE=1" in s.batch
    assert s.path.endswith("models--meta-llama--Meta-Llama-3-8B")
    w = c.get("dldata/huggingface-hub-cache/hub/models--openai--whisper-small").snippets.python
    assert "AutoModelForSpeechSeq2Seq" in w and "AutoProcessor" in w
    d = c.get("dldata/huggingface-hub-cache/hub/datasets--uoft-cs--cifar10").snippets.python
    assert "load_dataset('uoft-cs/cifar10')" in d and 'HF_DATASETS_OFFLINE' in d
    compile(d, "snippet", "exec")


def test_dataset_snippets(tmp_path):
    c, root = _cat(tmp_path)
    c.start_background_scan()
    assert c.wait_for_scan(60)
    im = c.get("dldata/imagenet").snippets
    assert "datasets.ImageFolder(os.path.join(root, 'train')" in im.python
    assert "#SBATCH --tmp=" in im.batch and "/tmp/$SLURM_JOB_ID" in im.batch
    compile(im.python, "snippet", "exec")
    w = c.get("dldata/imagenet-1k-wds").snippets
    assert "import webdataset as wds" in w.python and "imagenet1k-train-{0000..0007}.tar" in w.python
    compile(w.python, "snippet", "exec")
    m = c.get("dldata/maestro").snippets
    assert "#SBATCH --tmp=2G" in m.batch and 'rsync -a' in m.batch
    c.stop()


def test_quoting_of_hostile_paths(tmp_path):
    odd = tmp_path / "we ird'$(touch x)"
    (odd / "my data; rm -rf ~").mkdir(parents=True)
    (odd / "my data; rm -rf ~" / "f.csv").write_text("1\n")
    c = Catalog([("r", str(odd))], cache_path="", workers=0)
    [e] = c.list()
    s = c.get(e.id).snippets
    ns = {}
    code = s.python.replace("print(", "(")
    exec(compile(code, "s", "exec"), ns)   # the generic snippet only uses pathlib
    assert str(ns["root"]) == e.path
    lines = [ln for ln in s.batch.splitlines() if ln.startswith("rsync")]
    argv = shlex.split(lines[0])
    assert argv[2] == e.path + "/"
    assert "$(touch" not in s.batch.replace(shlex.quote(e.path + "/"), "")
