"""Every widget of every notebook, worked in a real browser as a student would.

For each ``notebooks/NN_*.ipynb`` that uses ``course_lib.notebook.widgets`` (:func:`uses_widgets`),
the test opens the notebook in JupyterLab in Chromium (driven by Playwright), clears the
outputs, runs all cells in CI mode, and checks that no cell shows an error and no widget
shows "Error displaying widget". Then, for every ``.course-widget`` on the page, it works
each control (a slider with the keyboard, another dropdown option, new text and Enter, a
click on the button) and checks that the widget's ``.course-widget-output`` changed
(``course_lib/notebook/widgets.py`` builds every widget that way). It measures how long each
change took to show, prints it in a summary at the end of the run and writes it to
``test-artifacts/browser-report.txt``, and saves a screenshot per notebook in
``test-artifacts/screenshots/`` (git-ignored; CI keeps the folder as an artifact; a
notebook taller than 16000 px continues in ``NN_name.part2.png`` and so on).

One JupyterLab server (and one Chromium) serves all the notebooks, from a temporary
copy of ``notebooks/`` and ``img/`` (autosave and jupytext rewrite files in place).
Browser: Debian's ``/usr/bin/chromium`` (Playwright cannot download its own here).
Without Playwright or that browser the tests skip, except under ``CI=true``, where they
fail. Run just these: ``pytest tests/test_browser.py``; skip them: ``-m "not slow"``.

The fixture notebooks in ``tests/fixtures/browser/`` check that the checks fail when they
should: a dead control, a widget that cannot be displayed, a failing cell.
"""

import importlib.util
import json
import os
import re
import shutil
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from dataclasses import dataclass, field
from pathlib import Path

import pytest

from course_lib.notebook.widgets import OUTPUT_CLASS, WIDGET_CLASS

try:
    from playwright.sync_api import Error as PlaywrightError
    from playwright.sync_api import TimeoutError as PlaywrightTimeout
except ImportError:  # the fixture `browser` skips (or fails in CI) with the reason
    class PlaywrightError(Exception):
        pass

    PlaywrightTimeout = PlaywrightError

ROOT = Path(__file__).resolve().parent.parent
FIXTURES = Path(__file__).resolve().parent / "fixtures" / "browser"
ARTIFACTS = ROOT / "test-artifacts"
SCREENSHOTS = ARTIFACTS / "screenshots"
REPORT_FILE = ARTIFACTS / "browser-report.txt"

CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = [
    "--headless", "--no-sandbox", "--disable-gpu", "--no-first-run",
    "--disable-background-networking", "--disable-component-update", "--disable-sync",
]
VIEWPORT = {"width": 1280, "height": 1000}
# Chromium cannot paint a page taller than its largest texture (16384 px).
MAX_SCREENSHOT_HEIGHT = 16000
TOKEN = "course-browser-test"

# Timeouts. Only CHANGE_TIMEOUT_S bounds a widget: a redraw is expected within a second
# on a laptop, and the test reports the times it measured rather than asserting them.
SERVER_START_TIMEOUT_S = 120
KERNEL_START_TIMEOUT_S = 120
RUN_ALL_TIMEOUT_S = float(os.environ.get("COURSE_BROWSER_RUN_TIMEOUT", 600))
CHANGE_TIMEOUT_S = 10
WIDGETS_RENDER_TIMEOUT_S = 30

IN_CI = os.environ.get("CI", "").lower() == "true"

# Which notebooks have widgets ----------------------------------------------------------

# A notebook has widgets when a code cell uses the course's widget builders
# (`course_lib.notebook.widgets`) or a notebook's own module of widgets
# (`course_lib.notebook.nbNN_<topic>`), in any of the spellings a notebook would use:
# `from course_lib.notebook import nb02_rnn_bptt as nb02, widgets`, `import
# course_lib.notebook.widgets as w`, `from course_lib.notebook.nb04_char_rnn import ...`, or a
# call `course_lib.notebook.widgets.plot_widget(...)`. Every widget of the course is built
# there; `import ipywidgets` alone (as 00_setup does, to print its version) does not count,
# nor do the style and the modes, which every notebook imports from `course_lib.notebook`.
WIDGET_MODULE = r"(?:widgets|nb\d\d_\w+)"
WIDGET_USE = re.compile(
    rf"\bcourse_lib\.notebook\.{WIDGET_MODULE}\b"
    rf"|\bfrom[ \t]+course_lib\.notebook[ \t]+import[ \t]+(?:\([\w\s,]*?|[\w \t,]*?)\b{WIDGET_MODULE}\b"
)
NOTEBOOK_NAME = re.compile(r"^\d\d_.+\.ipynb$")


def code_sources(ipynb):
    """The code of a notebook's code cells, one string per cell, comment lines left out.

    A file that is not valid JSON (say, half written) yields its whole text, so that
    such a notebook is still picked up and its test fails, rather than being skipped.
    """
    text = Path(ipynb).read_text(encoding="utf-8")
    try:
        cells = json.loads(text)["cells"]
    except (ValueError, KeyError, TypeError):
        return [text]
    sources = []
    for cell in cells:
        if cell.get("cell_type") != "code":
            continue
        source = cell.get("source", "")
        source = "".join(source) if isinstance(source, list) else source
        sources.append("\n".join(line for line in source.splitlines() if not line.lstrip().startswith("#")))
    return sources


def uses_widgets(ipynb):
    """Whether a code cell of the notebook uses ``course_lib.notebook.widgets``."""
    return any(WIDGET_USE.search(source) for source in code_sources(ipynb))


def widget_notebooks(folder):
    """The notebooks ``NN_*.ipynb`` of ``folder`` that use widgets, in order."""
    return [p for p in sorted(Path(folder).glob("*.ipynb")) if NOTEBOOK_NAME.match(p.name) and uses_widgets(p)]


WIDGET_NOTEBOOKS = widget_notebooks(ROOT / "notebooks")


# The browser and the server --------------------------------------------------------------


def unavailable(reason):
    """Skip, or fail under ``CI=true`` where CI installs what the browser test needs."""
    if IN_CI:
        pytest.fail(f"CI=true but {reason}: .ci/run must install it")
    pytest.skip(reason)


# The browser and the server are module fixtures: every test that uses them is in this
# module, so there is still one of each per test session, and both are gone before the
# rest of the suite (nbval's notebook runs) needs the two cores.


@pytest.fixture(scope="module")
def browser(tmp_path_factory):
    """A Chromium window (a persistent context on a fresh profile) for all notebooks."""
    try:
        from playwright.sync_api import sync_playwright
    except ImportError:
        unavailable("the Python package playwright is not installed (pip install -r requirements-test.txt)")
    if not os.access(CHROMIUM, os.X_OK):
        unavailable(f"no browser at {CHROMIUM} (Debian: apt-get install -y chromium)")
    playwright = sync_playwright().start()
    try:
        context = playwright.chromium.launch_persistent_context(
            str(tmp_path_factory.mktemp("chromium-profile")),
            executable_path=CHROMIUM, args=CHROMIUM_ARGS, headless=True, viewport=VIEWPORT,
        )
    except Exception:
        playwright.stop()
        raise
    yield context
    context.close()
    playwright.stop()


@dataclass
class LabServer:
    url: str
    token: str
    root: Path
    log: Path

    def api(self, method, path):
        request = urllib.request.Request(f"{self.url}{path}", method=method,
                                         headers={"Authorization": f"token {self.token}"})
        with urllib.request.urlopen(request, timeout=30) as response:
            body = response.read()
        return json.loads(body) if body else None

    def shutdown_kernels(self):
        """Free the memory of the kernels started so far (one per notebook)."""
        for session in self.api("GET", "/api/sessions"):
            self.api("DELETE", f"/api/sessions/{session['id']}")

    def log_tail(self, lines=40):
        text = self.log.read_text(encoding="utf-8", errors="replace") if self.log.exists() else ""
        return "\n".join(text.splitlines()[-lines:])


def free_port():
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def prepare_root(root):
    """The folder JupyterLab serves: copies of notebooks/, img/ and the fixture notebooks.

    ``notebooks/`` and ``img/`` keep their places side by side, so ``../img/`` links and
    the notebooks' relative paths (``solutions/``) work. Every notebook gets the Python 3
    kernel of the server's environment, whatever kernel it names (like nbval's
    ``--nbval-current-env``), so no kernel-choice dialog can stop a run.
    """
    ignore = shutil.ignore_patterns(".ipynb_checkpoints", "__pycache__")
    shutil.copytree(ROOT / "notebooks", root / "notebooks", ignore=ignore)
    if (ROOT / "img").is_dir():
        shutil.copytree(ROOT / "img", root / "img", ignore=ignore)
    shutil.copytree(FIXTURES, root / "_fixtures", ignore=ignore)
    kernelspec = {"name": "python3", "display_name": "Python 3 (ipykernel)", "language": "python"}
    for ipynb in root.rglob("*.ipynb"):
        try:
            nb = json.loads(ipynb.read_text(encoding="utf-8"))
        except ValueError:
            continue  # the test of that notebook reports it
        nb.setdefault("metadata", {})["kernelspec"] = kernelspec
        ipynb.write_text(json.dumps(nb, indent=1), encoding="utf-8")


def write_lab_settings(folder):
    """JupyterLab settings for a quiet, complete page.

    No news pop-up; and every cell attached to the page (``windowingMode: none``), so
    every widget is in the DOM and a tall screenshot shows the whole notebook.
    """
    settings = {
        "@jupyterlab/apputils-extension/notification": {"fetchNews": "false", "checkForUpdates": False},
        "@jupyterlab/notebook-extension/tracker": {"windowingMode": "none"},
        "@jupyterlab/docmanager-extension/plugin": {"autosave": False},
    }
    for plugin, values in settings.items():
        package, name = plugin.rsplit("/", 1)
        path = folder / package / f"{name}.jupyterlab-settings"
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(json.dumps(values), encoding="utf-8")


@pytest.fixture(scope="module")
def lab(tmp_path_factory):
    """One JupyterLab server for all notebooks, on 127.0.0.1, a free port and a fixed token."""
    if importlib.util.find_spec("jupyterlab") is None:
        unavailable("jupyterlab is not installed (pip install -r requirements-test.txt)")
    base = tmp_path_factory.mktemp("jupyterlab")
    root = base / "serve"
    root.mkdir()
    prepare_root(root)
    write_lab_settings(base / "settings")

    env = dict(os.environ)
    # The repository's course_lib, whether or not it is pip-installed (-e in CI).
    env["PYTHONPATH"] = os.pathsep.join(p for p in (str(ROOT), env.get("PYTHONPATH")) if p)
    env["COURSE_MODE"] = "ci"
    env.setdefault("OPENBLAS_NUM_THREADS", "1")
    # Nobody's personal Jupyter configuration, kernels or workspaces.
    for var, sub in (("JUPYTER_CONFIG_DIR", "config"), ("JUPYTER_DATA_DIR", "data"),
                     ("JUPYTER_RUNTIME_DIR", "runtime"), ("IPYTHONDIR", "ipython")):
        env[var] = str(base / sub)
    env["JUPYTER_PLATFORM_DIRS"] = "1"

    port = free_port()
    command = [
        sys.executable, "-m", "jupyterlab", "--no-browser", "--ip=127.0.0.1", f"--port={port}",
        "--ServerApp.port_retries=0", f"--IdentityProvider.token={TOKEN}",
        f"--ServerApp.root_dir={root}", "--LabApp.expose_app_in_browser=True",
        f"--LabApp.user_settings_dir={base / 'settings'}", f"--LabApp.workspaces_dir={base / 'workspaces'}",
    ]
    if hasattr(os, "geteuid") and os.geteuid() == 0:
        command.append("--allow-root")
    log = base / "jupyterlab.log"
    with open(log, "wb") as log_file:
        process = subprocess.Popen(command, cwd=root, env=env, stdout=log_file, stderr=subprocess.STDOUT,
                                   stdin=subprocess.DEVNULL, start_new_session=True)
    server = LabServer(f"http://127.0.0.1:{port}", TOKEN, root, log)
    deadline = time.monotonic() + SERVER_START_TIMEOUT_S
    while True:
        if process.poll() is not None:
            pytest.fail(f"JupyterLab exited with status {process.returncode}:\n{server.log_tail()}")
        try:
            server.api("GET", "/api/status")
            break
        except (urllib.error.URLError, ConnectionError, OSError):
            if time.monotonic() > deadline:
                process.kill()
                pytest.fail(f"JupyterLab did not answer within {SERVER_START_TIMEOUT_S} s:\n{server.log_tail()}")
            time.sleep(0.25)
    yield server
    # SIGTERM: the server shuts its kernels down. Its whole process group is ours.
    process.terminate()
    try:
        process.wait(timeout=20)
    except subprocess.TimeoutExpired:
        os.killpg(process.pid, 9)
        process.wait()


# The report ----------------------------------------------------------------------------


@dataclass
class ControlResult:
    widget: int  # 1-based, in page order
    kind: str  # slider, dropdown, text, button, or the class of an unsupported control
    label: str
    action: str  # what was done, e.g. "End (1 -> 2)"
    changed: bool
    latency_ms: float | None = None  # from the key press (click, choice) to the new output
    required: bool = True  # a failure when the output did not change
    note: str = ""


@dataclass
class NotebookRun:
    """What happened to one notebook in the browser; ``failures()`` lists what went wrong."""

    name: str
    problems: list = field(default_factory=list)  # cell errors, widget errors, timeouts
    widget_titles: list = field(default_factory=list)
    controls: list = field(default_factory=list)
    run_all_s: float | None = None
    total_s: float | None = None
    screenshots: list = field(default_factory=list)

    def failures(self):
        failed = [
            f"widget {c.widget} ({self.widget_titles[c.widget - 1]!r}): {c.kind} {c.label!r}: "
            f"{c.action} left the output unchanged for {CHANGE_TIMEOUT_S} s{'; ' + c.note if c.note else ''}"
            for c in self.controls if c.required and not c.changed
        ]
        return self.problems + failed

    def report_lines(self):
        latencies = [c.latency_ms for c in self.controls if c.changed and c.latency_ms is not None]
        summary = f"{self.name}: {len(self.widget_titles)} widgets, {len(self.controls)} control moves"
        if self.run_all_s is not None:
            summary += f", run all {self.run_all_s:.1f} s"
        if latencies:
            summary += f", redraw median {sorted(latencies)[len(latencies) // 2]:.0f} ms, max {max(latencies):.0f} ms"
        if self.total_s is not None:
            summary += f", total {self.total_s:.1f} s"
        lines = [summary]
        for c in self.controls:
            outcome = "changed" if c.changed else ("UNCHANGED" if c.required else "unchanged (not required)")
            latency = f"{c.latency_ms:6.0f} ms" if c.latency_ms is not None and c.changed else "       -"
            title = self.widget_titles[c.widget - 1] if c.widget <= len(self.widget_titles) else ""
            lines.append(f"  widget {c.widget} {title[:30]!r:32} {c.kind:8} {c.label[:20]!r:22} "
                         f"{c.action:28} {outcome:9} {latency}{'  ' + c.note if c.note else ''}")
        lines += [f"  problem: {p}" for p in self.problems]
        return lines


class BrowserReport:
    """Collects the runs of a session; prints them at the end and writes them to a file."""

    def __init__(self):
        self.runs = []

    def add(self, run):
        self.runs.append(run)
        print("\n" + "\n".join(run.report_lines()))

    def pytest_terminal_summary(self, terminalreporter):
        if not self.runs:
            return
        terminalreporter.section("widgets in the browser: redraw times")
        for run in self.runs:
            for line in run.report_lines():
                terminalreporter.write_line(line)
        terminalreporter.write_line(f"(written to {REPORT_FILE.relative_to(ROOT)}; screenshots in "
                                    f"{SCREENSHOTS.relative_to(ROOT)}/)")

    def write(self):
        if self.runs:
            ARTIFACTS.mkdir(exist_ok=True)
            REPORT_FILE.write_text("\n".join(line for run in self.runs for line in run.report_lines()) + "\n",
                                   encoding="utf-8")


@pytest.fixture(scope="session")
def browser_report(request):
    report = BrowserReport()
    request.config.pluginmanager.register(report, "course-browser-report")
    yield report
    report.write()


# Driving the page -----------------------------------------------------------------------

# Arms a probe on one output element: it records the first user event (key, click,
# choice) after arming, and the moment the element's HTML differs from what it was (an
# image: once the new picture is decoded, i.e. ready to paint).
ARM_PROBE = """(el) => {
  const probe = {before: el.outerHTML, t0: null, t1: null};
  const events = ['keydown', 'pointerdown', 'mousedown', 'input', 'change'];
  const onEvent = () => { if (probe.t0 === null) probe.t0 = performance.now(); };
  const observer = new MutationObserver(() => {
    if (probe.seen || el.outerHTML === probe.before) return;
    probe.seen = true;
    const finish = () => { probe.t1 = performance.now(); probe.cancel(); };
    if (el.tagName === 'IMG' && el.decode) el.decode().then(finish, finish); else finish();
  });
  probe.cancel = () => {
    observer.disconnect();
    for (const e of events) document.removeEventListener(e, onEvent, true);
  };
  for (const e of events) document.addEventListener(e, onEvent, true);
  observer.observe(el, {attributes: true, childList: true, subtree: true, characterData: true});
  window.__courseProbe = probe;
}"""

# The notebook as JupyterLab holds it (cells, outputs, execution counts).
NOTEBOOK_JSON = """() => {
  const panel = window.jupyterapp.shell.currentWidget;
  return panel && panel.content && panel.content.model ? panel.content.model.toJSON() : null;
}"""

KERNEL_IDLE = re.compile(r"\(ipykernel\) \| Idle")

# Inside a .course-widget, everything a student can operate, and what this test does
# with it. A control of another kind is reported: the driver must learn it first.
CONTROL_SELECTOR = ".widget-slider, .widget-dropdown, .widget-text, .widget-button"
INTERACTIVE_SELECTOR = "input, select, textarea, button, [role=slider], [contenteditable=true]"


def wait_kernel_idle(page, timeout_s):
    page.locator(".jp-StatusBar-TextItem", has_text=KERNEL_IDLE).first.wait_for(timeout=timeout_s * 1000)


def dialog_text(page):
    dialogs = page.locator(".jp-Dialog")
    return " | ".join(d.inner_text() for d in dialogs.all()) if dialogs.count() else ""


def open_notebook(page, lab, path, workspace):
    """Open ``path`` (relative to the served root) in a fresh workspace; wait for its kernel."""
    page.goto(f"{lab.url}/lab/workspaces/{workspace}/tree/{path}?reset&token={lab.token}")
    page.locator(".jp-NotebookPanel").first.wait_for(timeout=KERNEL_START_TIMEOUT_S * 1000)
    wait_kernel_idle(page, KERNEL_START_TIMEOUT_S)


def run_all(page, run):
    """Clear all outputs, run all cells, and wait until nothing is left to run."""
    page.evaluate("""() => {
      window.__courseRunAll = null;
      const commands = window.jupyterapp.commands;
      commands.execute('notebook:clear-all-cell-outputs')
        .then(() => commands.execute('notebook:run-all-cells'))
        .then(ok => { window.__courseRunAll = {ok: ok}; },
              error => { window.__courseRunAll = {error: String(error)}; });
    }""")
    start = time.monotonic()
    page.wait_for_function("() => window.__courseRunAll !== null", timeout=RUN_ALL_TIMEOUT_S * 1000)
    # A cell still queued or running shows the prompt [*].
    page.wait_for_function(
        "() => ![...document.querySelectorAll('.jp-NotebookPanel .jp-InputPrompt')]"
        ".some(p => p.textContent.includes('*'))",
        timeout=RUN_ALL_TIMEOUT_S * 1000,
    )
    wait_kernel_idle(page, RUN_ALL_TIMEOUT_S)
    run.run_all_s = time.monotonic() - start
    outcome = page.evaluate("() => window.__courseRunAll")
    if "error" in outcome:
        run.problems.append(f"Run All failed in JupyterLab: {outcome['error']}")


def check_cells(page, run):
    """An error output in any cell, or a code cell that did not run, is a problem."""
    nb = page.evaluate(NOTEBOOK_JSON)
    if nb is None:
        run.problems.append("no notebook is open in JupyterLab")
        return
    code = [c for c in nb["cells"] if c["cell_type"] == "code"]
    for i, cell in enumerate(code, start=1):
        for output in cell.get("outputs", []):
            if output["output_type"] == "error":
                run.problems.append(f"code cell {i} shows an error: {output['ename']}: {output['evalue']}")
        source = "".join(cell["source"]) if isinstance(cell["source"], list) else cell["source"]
        if source.strip() and cell.get("execution_count") is None:
            run.problems.append(f"code cell {i} did not run")


def check_widget_rendering(page, run):
    """Wait for widgets to finish loading; a widget that failed to display is a problem.

    ipywidgets shows "Error displaying widget" when a view cannot be made, and an error
    box ("Click to show javascript error.") when a widget's JavaScript cannot be loaded.
    """
    outputs = ".jp-NotebookPanel .jp-OutputArea-output"
    try:
        page.wait_for_function(
            f"() => ![...document.querySelectorAll('{outputs}')].some(o => o.innerText.includes('Loading widget...'))",
            timeout=WIDGETS_RENDER_TIMEOUT_S * 1000,
        )
    except PlaywrightTimeout:
        run.problems.append(f"a widget still shows 'Loading widget...' after {WIDGETS_RENDER_TIMEOUT_S} s")
    errors = page.locator(outputs).get_by_text("Error displaying widget")
    for i in range(errors.count()):
        run.problems.append(f"a cell shows: {errors.nth(i).inner_text().strip()[:200]}")
    boxes = page.locator(f"{outputs} .jupyter-widgets-error-widget")
    for i in range(boxes.count()):
        box = boxes.nth(i)
        box.click()  # shows the message instead of an icon
        # "[Open Browser Console ... message] Failed to load ... Error: ... at <stack>"
        message = " ".join(box.inner_text().split())
        message = message.split("] ", 1)[-1].split(" at ", 1)[0]
        run.problems.append(f"a widget could not be displayed: {message[:300]}")


def label_of(control):
    labels = control.locator(":scope > .widget-label")
    text = labels.first.inner_text().strip() if labels.count() else ""
    return text or control.inner_text().strip()


def probe_change(page, output, act):
    """Do ``act()``; return (changed, latency in ms) of ``output`` within CHANGE_TIMEOUT_S."""
    output.evaluate(ARM_PROBE)
    start = time.perf_counter()
    act()
    try:
        page.wait_for_function("() => window.__courseProbe.t1 !== null", timeout=CHANGE_TIMEOUT_S * 1000)
    except PlaywrightTimeout:
        page.evaluate("() => window.__courseProbe.cancel()")
        return False, None
    t0, t1 = page.evaluate("() => [window.__courseProbe.t0, window.__courseProbe.t1]")
    latency = t1 - t0 if t0 is not None else (time.perf_counter() - start) * 1000
    # Let the kernel finish the callback before the next move.
    try:
        wait_kernel_idle(page, CHANGE_TIMEOUT_S)
    except PlaywrightTimeout:
        pass  # the next move then measures a little more than its own redraw
    return True, latency


def drive_slider(page, widget_no, control, output):
    """A student's keyboard on the slider: one step, then a jump to the end (or start).

    The jump must change the output. The single step is measured too, but a step that
    changes nothing a pixel can show is allowed, so it is not required to change it.
    """
    handle = control.locator(".noUi-handle").first
    readout = control.locator(".widget-readout").first
    results = []
    label = label_of(control)

    def where():
        now, top = (float(handle.get_attribute(a)) for a in ("aria-valuenow", "aria-valuemax"))
        return now, top, readout.inner_text().strip() if readout.count() else f"{now:g}"

    now, top, shown = where()
    step_key = "ArrowRight" if now < top else "ArrowLeft"
    changed, latency = probe_change(page, output, lambda: handle.press(step_key))
    after = where()[2]
    results.append(ControlResult(widget_no, "slider", label, f"{step_key} ({shown} -> {after})",
                                 changed, latency, required=False))
    now, top, shown = where()
    jump_key = "End" if now < top else "Home"
    changed, latency = probe_change(page, output, lambda: handle.press(jump_key))
    results.append(ControlResult(widget_no, "slider", label, f"{jump_key} ({shown} -> {where()[2]})",
                                 changed, latency))
    return results


def drive_dropdown(page, widget_no, control, output):
    select = control.locator("select").first
    options = select.locator("option").all_inner_texts()
    current = select.evaluate("s => s.selectedIndex")
    label = label_of(control)
    if len(options) < 2:
        return [ControlResult(widget_no, "dropdown", label, "pick another option", False,
                              note="it has a single option")]
    target = (current + 1) % len(options)
    changed, latency = probe_change(page, output, lambda: select.select_option(index=target))
    return [ControlResult(widget_no, "dropdown", label, f"pick {options[target]!r}", changed, latency)]


def drive_text(page, widget_no, control, output):
    box = control.locator("input").first
    if box.get_attribute("type") == "number":  # IntText, FloatText: one step up, Enter
        box.click()
        box.press("ArrowUp")
        changed, latency = probe_change(page, output, lambda: box.press("Enter"))
        return [ControlResult(widget_no, "number", label_of(control), "ArrowUp + Enter", changed, latency)]
    old = box.input_value()
    # Text made of the characters already there stays within a model's vocabulary.
    new = old + old[0] if old else "the"
    box.click()
    box.press("Control+A")
    box.press_sequentially(new)
    changed, latency = probe_change(page, output, lambda: box.press("Enter"))
    return [ControlResult(widget_no, "text", label_of(control), f"type {new!r} + Enter", changed, latency)]


def drive_button(page, widget_no, control, output):
    changed, latency = probe_change(page, output, lambda: control.click())
    return [ControlResult(widget_no, "button", label_of(control), "click", changed, latency)]


DRIVERS = {"widget-slider": drive_slider, "widget-dropdown": drive_dropdown,
           "widget-text": drive_text, "widget-button": drive_button}


def drive_widgets(page, run, expect_widgets):
    """Work every control of every ``.course-widget``; record what changed and how fast."""
    widgets = page.locator(f".jp-NotebookPanel .{WIDGET_CLASS}")
    if expect_widgets and widgets.count() == 0:
        run.problems.append("the notebook uses course_lib.notebook.widgets but shows no .course-widget")
    for w in range(widgets.count()):
        widget, number = widgets.nth(w), w + 1
        titles = widget.locator(":scope > .widget-html").all_inner_texts()
        run.widget_titles.append(titles[0].strip() if titles else "")
        widget.scroll_into_view_if_needed()
        outputs = widget.locator(f".{OUTPUT_CLASS}")
        if outputs.count() != 1:
            run.problems.append(f"widget {number} has {outputs.count()} .course-widget-output elements, not 1")
            continue
        output = outputs.first
        if not output.evaluate("e => Boolean(e.tagName === 'IMG' ? e.getAttribute('src') : e.innerText.trim())"):
            run.problems.append(f"widget {number} shows an empty output")
        controls = widget.locator(CONTROL_SELECTOR)
        # Anything else a student could operate: the driver does not know it yet.
        unknown = widget.locator(INTERACTIVE_SELECTOR).evaluate_all(
            f"(els) => els.filter(e => !e.closest('{CONTROL_SELECTOR}, .{OUTPUT_CLASS}'))"
            ".map(e => e.outerHTML.slice(0, 120))")
        for html in unknown:
            run.problems.append(f"widget {number} has a control this test cannot drive: {html}")
        if controls.count() == 0:
            run.problems.append(f"widget {number} has no control")
        for c in range(controls.count()):
            control = controls.nth(c)
            classes = control.get_attribute("class").split()
            kind = next(k for k in DRIVERS if k in classes)
            if control.locator("[disabled]").count() or "mod-disabled" in classes:
                run.controls.append(ControlResult(number, kind.removeprefix("widget-"), label_of(control),
                                                  "none (disabled)", False, required=False))
                continue
            control.scroll_into_view_if_needed()
            run.controls.extend(DRIVERS[kind](page, number, control, output))


def screenshot(page, path):
    """The whole notebook: the viewport made as tall as the notebook (up to 16000 px).

    A taller notebook is scrolled and shot in parts: ``path`` holds the top, then
    ``<stem>.part2.png`` and so on. Returns the files written.
    """
    page.evaluate("""() => {
      const app = window.jupyterapp;
      if (!app.shell.leftCollapsed) app.commands.execute('application:toggle-left-area');
    }""")
    # The notebook scrolls inside its panel, past its last cell: measure to that cell.
    scroller = ".jp-NotebookPanel .jp-WindowedPanel-outer"
    content_bottom = f"""(() => {{
      const nb = document.querySelector('{scroller}');
      const cells = nb.querySelectorAll('.jp-Cell');
      const last = cells[cells.length - 1];
      return last ? last.getBoundingClientRect().bottom - nb.getBoundingClientRect().top + nb.scrollTop + 16
                  : nb.scrollHeight;
    }})()"""
    height, chrome = page.evaluate(f"""() => {{
      const nb = document.querySelector('{scroller}');
      nb.scrollTop = 0;
      return [{content_bottom}, window.innerHeight - nb.clientHeight];
    }}""")
    page.set_viewport_size({"width": VIEWPORT["width"],
                            "height": max(VIEWPORT["height"], min(round(height + chrome), MAX_SCREENSHOT_HEIGHT))})
    path.parent.mkdir(parents=True, exist_ok=True)
    for old in path.parent.glob(f"{path.stem}.part*.png"):
        old.unlink()
    page.wait_for_timeout(300)  # re-layout at the new size
    files = []
    while True:
        part = path if not files else path.with_name(f"{path.stem}.part{len(files) + 1}.png")
        page.screenshot(path=str(part))
        files.append(part)
        more = page.evaluate(f"""() => {{
          const nb = document.querySelector('{scroller}');
          if (nb.scrollTop + nb.clientHeight >= {content_bottom} - 1) return false;
          nb.scrollTop += nb.clientHeight;
          return true;
        }}""")
        if not more:
            break
    page.set_viewport_size(VIEWPORT)
    return files


def run_notebook_in_browser(browser, lab, path, *, expect_widgets, screenshot_path):
    """Open, run and drive one notebook (``path`` relative to the served root).

    Returns a :class:`NotebookRun`; never raises for what it finds in the notebook, so
    that a test can check the report of a notebook that is broken on purpose.
    """
    run = NotebookRun(Path(path).stem)
    start = time.monotonic()
    page = browser.new_page()
    page.set_default_timeout(30_000)
    try:
        step = "opening the notebook and starting its kernel"
        open_notebook(page, lab, path, workspace=re.sub(r"\W", "-", run.name))
        step = "running all cells"
        run_all(page, run)
        check_cells(page, run)
        step = "waiting for the widgets to display"
        check_widget_rendering(page, run)
        step = "working the widgets"
        drive_widgets(page, run, expect_widgets)
    except PlaywrightError as error:
        dialog = dialog_text(page)
        run.problems.append(f"browser: {step} failed: {str(error).splitlines()[0]}"
                            + (f" (a dialog says: {dialog})" if dialog else ""))
    finally:
        try:
            run.screenshots = screenshot(page, screenshot_path)
        except PlaywrightError as error:
            run.problems.append(f"no screenshot: {str(error).splitlines()[0]}")
        page.close()
        lab.shutdown_kernels()
    run.total_s = time.monotonic() - start
    return run


# The notebooks ----------------------------------------------------------------------------


def test_notebooks_with_widgets_are_found():
    # The course's notebooks after the setup one all have widgets: if none is found, the
    # discovery rule broke and the browser test below would check nothing.
    later = [p for p in (ROOT / "notebooks").glob("*.ipynb") if NOTEBOOK_NAME.match(p.name) and p.name[:2] != "00"]
    if not later:
        pytest.skip("only notebook 00 exists so far")
    assert WIDGET_NOTEBOOKS, f"none of {sorted(p.name for p in later)} uses course_lib.notebook.widgets"


@pytest.mark.slow
@pytest.mark.parametrize("ipynb", WIDGET_NOTEBOOKS, ids=lambda p: p.stem)
def test_widgets_respond_in_the_browser(ipynb, browser, lab, browser_report):
    run = run_notebook_in_browser(browser, lab, f"notebooks/{ipynb.name}", expect_widgets=True,
                                  screenshot_path=SCREENSHOTS / f"{ipynb.stem}.png")
    browser_report.add(run)
    failures = run.failures()
    shots = ", ".join(str(p.relative_to(ROOT)) for p in run.screenshots) or "none"
    assert not failures, f"{ipynb.name} in the browser (screenshots: {shots}):\n  " + "\n  ".join(failures)


# The checks fail when they should ---------------------------------------------------------


def write_notebook(path, *sources):
    import nbformat

    nb = nbformat.v4.new_notebook()
    nb.cells = [nbformat.v4.new_markdown_cell("# course_lib.notebook.widgets, in a markdown cell")]
    nb.cells += [nbformat.v4.new_code_cell(source) for source in sources]
    nbformat.write(nb, path)
    return path


@pytest.mark.parametrize("source", [
    "from course_lib.notebook import widgets",
    "from course_lib.notebook import style, widgets as w",
    "from course_lib.notebook import (\n    style,\n    widgets,\n)",
    "from course_lib.notebook import nb02_rnn_bptt as nb02",
    "from course_lib.notebook import modes, nb04_char_rnn",
    "from course_lib.notebook.nb04_char_rnn import sampling_widget",
    "import course_lib.notebook.nb01_activations as nb01",
    "import course_lib.notebook.widgets",
    "import course_lib.notebook.widgets as cw",
    "from course_lib.notebook.widgets import plot_widget, slider",
    "import course_lib\ncourse_lib.notebook.widgets.text_widget(render, {}, title='t')",
])
def test_discovery_finds_a_widget_notebook(tmp_path, source):
    assert uses_widgets(write_notebook(tmp_path / "01_x.ipynb", "import numpy as np", source))


@pytest.mark.parametrize("source", [
    "import ipywidgets\nprint(ipywidgets.__version__)",  # as 00_setup does
    "from course_lib.notebook import style\nwidgets = []",
    "# from course_lib.notebook import widgets, in a comment",
    "from course_lib.notebook.style import use_course_style",
    "from course_lib.notebook import modes, style",
    "from course_lib import widgets",  # no such module: the builders live in course_lib.notebook
])
def test_discovery_skips_a_notebook_without_widgets(tmp_path, source):
    assert not uses_widgets(write_notebook(tmp_path / "01_x.ipynb", source))


def test_discovery_picks_only_numbered_notebooks(tmp_path):
    for name in ("01_rnn.ipynb", "scratch.ipynb", "1_short.ipynb"):
        write_notebook(tmp_path / name, "from course_lib.notebook import widgets")
    write_notebook(tmp_path / "02_none.ipynb", "import numpy")
    (tmp_path / "03_half_written.ipynb").write_text('{"cells": [{"cell_type": "code", "source": "from course_lib imp',
                                                    encoding="utf-8")
    (tmp_path / "04_half_written.ipynb").write_text('{"cells": [{"cell_type": "code", "source": "from '
                                                    'course_lib.notebook import widgets', encoding="utf-8")
    assert [p.name for p in widget_notebooks(tmp_path)] == ["01_rnn.ipynb", "04_half_written.ipynb"]


def test_discovery_on_the_course():
    assert ROOT / "notebooks" / "00_setup.ipynb" not in WIDGET_NOTEBOOKS
    assert uses_widgets(FIXTURES / "two_widgets.ipynb")


def drive_fixture(browser, lab, browser_report, name, expect_widgets=True):
    run = run_notebook_in_browser(browser, lab, f"_fixtures/{name}.ipynb", expect_widgets=expect_widgets,
                                  screenshot_path=SCREENSHOTS / "fixtures" / f"{name}.png")
    run.name = f"fixture {name}"
    browser_report.add(run)
    return run


@pytest.mark.slow
def test_driver_passes_widgets_that_respond(browser, lab, browser_report):
    run = drive_fixture(browser, lab, browser_report, "two_widgets")
    assert run.failures() == []
    assert run.widget_titles == ["A wave", "Echo"]
    moved = [(c.widget, c.kind, c.label) for c in run.controls if c.required]
    assert moved == [(1, "slider", "amplitude"), (1, "slider", "frequency"), (1, "slider", "points"),
                     (1, "dropdown", "shape"), (2, "text", "prompt"), (2, "button", "Sample again")]
    assert all(c.changed and c.latency_ms is not None for c in run.controls)
    assert len(run.screenshots) == 1 and run.screenshots[0].stat().st_size > 10_000


@pytest.mark.slow
def test_driver_reports_a_control_that_changes_nothing_or_is_unknown(browser, lab, browser_report):
    run = drive_fixture(browser, lab, browser_report, "stuck_widget")
    failures = run.failures()
    assert len(failures) == 3, failures
    assert failures[0].startswith("widget 2 has a control this test cannot drive: <input type=\"checkbox\"")
    assert failures[1] == "widget 2 has no control"
    assert failures[2].startswith("widget 1 ('A widget with a dead control'): dropdown 'colour': pick 'orange' "
                                  "left the output unchanged")
    assert [c.changed for c in run.controls if c.kind == "slider"] == [True, True]


@pytest.mark.slow
def test_driver_reports_errors_and_widgets_that_cannot_display(browser, lab, browser_report):
    run = drive_fixture(browser, lab, browser_report, "broken")
    failures = "\n".join(run.failures())
    assert "a cell shows: Error displaying widget" in failures
    assert "a widget could not be displayed:" in failures and "course-no-such-module" in failures
    assert "code cell 3 shows an error: ValueError: a cell that fails on purpose" in failures
    assert "uses course_lib.notebook.widgets but shows no .course-widget" in failures
