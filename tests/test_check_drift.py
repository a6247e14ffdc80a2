"""The drift check's bookkeeping (scripts/check_drift.py): what counts as a moved package."""

import importlib.util
from pathlib import Path

SCRIPT = Path(__file__).resolve().parent.parent / "scripts" / "check_drift.py"
spec = importlib.util.spec_from_file_location("check_drift", SCRIPT)
check_drift = importlib.util.module_from_spec(spec)
spec.loader.exec_module(check_drift)


def test_pins_are_read_with_canonical_names_and_comments_ignored():
    text = "Jinja2==3.1.6\ntyping_extensions==4.15.0  # via ipython\n-e file:///x\n# a comment\n"
    assert check_drift.read_pins(text) == {"jinja2": "3.1.6", "typing-extensions": "4.15.0"}


def test_a_moved_package_is_named_with_both_versions():
    pinned = {"numpy": "2.4.6", "matplotlib": "3.11.2", "gone": "1.0"}
    installed = {"numpy": "2.5.0", "matplotlib": "3.11.2", "new": "0.1"}
    assert check_drift.moved_packages(pinned, installed) == [
        "gone: 1.0 -> (not installed)",
        "new: (not pinned) -> 0.1",
        "numpy: 2.4.6 -> 2.5.0",
    ]


def test_nothing_moved_means_no_lines():
    assert check_drift.moved_packages({"numpy": "2.4.6"}, {"numpy": "2.4.6"}) == []


def test_the_constraints_file_pins_every_requirement_exactly():
    root = SCRIPT.parent.parent
    pins = check_drift.read_pins((root / "constraints.txt").read_text())
    for requirements in ("requirements.txt", "requirements-test.txt"):
        for line in (root / requirements).read_text().splitlines():
            line = line.split("#", 1)[0].strip()
            if not line or line.startswith("-"):
                continue
            name = check_drift.canonical(line.split(">")[0].split("<")[0].split("=")[0].split("[")[0].strip())
            assert name in pins, f"{requirements} needs {name}, which constraints.txt does not pin"


def test_the_drift_run_drops_the_pins_and_includes(tmp_path):
    requirements = tmp_path / "requirements.txt"
    requirements.write_text("-c constraints.txt\nnumpy>=1.26,<3  # arrays\n-r other.txt\n-e .\n")
    lines = check_drift.unpinned_requirements(requirements).splitlines()
    assert lines == ["numpy>=1.26,<3  # arrays", f"-e {check_drift.ROOT}"]


def test_rewriting_the_constraints_keeps_their_header():
    text = "# pinned by CI\n# second line\nnumpy==2.4.6\n# a later comment\n"
    assert check_drift.constraints_header(text) == "# pinned by CI\n# second line\n"
