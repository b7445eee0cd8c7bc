"""No control sequence from a repository or a model reaches a terminal (`codectx.printable`),
while JSON and SARIF keep the data exactly."""

from __future__ import annotations

import io
import json
import logging
from pathlib import Path

from click.testing import CliRunner
from rich.live import Live
from rich.markdown import Markdown
from rich.text import Text

from codectx.cli import main
from codectx.cli.console import PrintableConsole
from codectx.printable import CleanFormatter, clean, json_text
from tests.conftest import make_repo
from tests.support.fake import FakeBackend

# What a hostile file or reply carries: a clipboard write (OSC 52, ended by BEL), erase the
# line and go to its start (CSI by ESC), and CSI as one C1 character.
OSC52 = "\x1b]52;c;aGk=\x07"
HIDE = "\x1b[2K\x1b[1G"
C1_CSI = "\x9b31m"
HOSTILE = OSC52 + HIDE + C1_CSI
UNSAFE = ("\x1b", "\x07", "\x9b", "\x9d", "\x7f")

APP = "def greet(name):\n    return 'hi ' + name\n"


def assert_printable(*outputs: str) -> None:
    for output in outputs:
        found = [c for c in UNSAFE if c in output]
        assert not found, f"{found} in {output!r}"


def run(*args: str) -> tuple[int, str, str]:
    # CliRunner's streams are not terminals: rich emits no styling, so any ESC is theirs.
    result = CliRunner().invoke(main, list(args))
    return result.exit_code, result.stdout, result.stderr


# -- the function ---------------------------------------------------------------------


def test_clean_removes_controls_and_keeps_text_newlines_and_tabs() -> None:
    assert clean("a\tb\nc") == "a\tb\nc"
    assert clean("héllo → 世界 ✓") == "héllo → 世界 ✓"
    assert clean(HOSTILE + "+# harmless") == "]52;c;aGk=[2K[1G31m+# harmless"
    assert clean("".join(map(chr, range(0x20)))) == "\t\n"
    assert clean("\x7f\x80\x9f\xa0x") == "\xa0x"  # DEL and C1 go, NBSP stays
    assert clean("a\r\nb") == "a\nb"
    assert clean("name\udc9b.py") == "name\ufffd.py"  # an undecodable byte, made visible


def test_clean_returns_clean_text_itself() -> None:
    text = "nothing to remove\n" * 3
    assert clean(text) is text


def test_json_text_escapes_what_json_dumps_writes_raw_and_keeps_the_data() -> None:
    data = {"path": "a\x9b\x7f\udc80.py", "esc": "\x1b"}
    dumped = json_text(json.dumps(data, ensure_ascii=False))
    assert_printable(dumped)
    assert "\\u009b" in dumped and "\\u007f" in dumped and "\\udc80" in dumped
    assert json.loads(dumped) == data


def test_log_records_are_cleaned() -> None:
    stream = io.StringIO()
    handler = logging.StreamHandler(stream)
    handler.setFormatter(CleanFormatter("%(levelname)s %(message)s"))
    log = logging.getLogger("tests.printable")
    log.addHandler(handler)
    try:
        log.warning("reading %s", "x" + HOSTILE + ".py")
    finally:
        log.removeHandler(handler)
    assert stream.getvalue() == "WARNING reading x]52;c;aGk=[2K[1G31m.py\n"


# -- the consoles ---------------------------------------------------------------------


def terminal_console() -> tuple[PrintableConsole, io.StringIO]:
    file = io.StringIO()
    return PrintableConsole(file=file, force_terminal=True, color_system="standard",
                            width=80), file


def test_the_console_cleans_text_and_keeps_its_own_styling() -> None:
    console, file = terminal_console()
    console.print(Text("code" + HOSTILE, style="red"), markup=False)
    written = file.getvalue()
    assert "\x1b[31m" in written  # rich's colour, which is not text
    assert "\x1b]52" not in written and "\x07" not in written and "\x9b" not in written
    assert "\x1b[2K" not in written and "]52;c;aGk=[2K[1G31m" in written


def test_a_live_display_is_cleaned_too() -> None:
    # Live adds what it shows in a render hook of its own: the answer streams this way.
    console, file = terminal_console()
    with Live(Markdown(""), console=console, auto_refresh=False) as live:
        live.update(Markdown("the answer" + HOSTILE), refresh=True)
    written = file.getvalue()
    assert "the answer]52;c;aGk=[2K[1G31m" in written
    assert "\x1b]52" not in written and "\x07" not in written and "\x9b" not in written
    assert "\x1b[2K\x1b[1G" not in written


# -- the command line, on real repositories -------------------------------------------


def test_review_prints_a_line_that_breaks_parsing_without_its_controls(
        tmp_path: Path, scripted: FakeBackend) -> None:
    root = tmp_path / "r"
    repo = make_repo(root, {"app.py": APP})
    (root / "app.py").write_text(f"def greet(name):\n    return ('hi ' + \"{HOSTILE}\"\n")
    repo.index.add(["app.py"])
    scripted.replies.append("no findings")
    code, out, err = run("review", "--staged", str(root))
    assert code == 0 and "error: the file no longer parses" in out
    assert "return ('hi ' + \"]52;c;aGk=[2K[1G31m\"" in out  # shown, without its controls
    assert_printable(out, err)


def test_review_json_and_sarif_keep_the_reply_exactly(tmp_path: Path,
                                                      scripted: FakeBackend) -> None:
    root = tmp_path / "r"
    make_repo(root, {"app.py": APP})
    (root / "app.py").write_text(APP + "\ndef shout(s):\n    return s.upper()\n")
    reply = f"Findings:\n- app.py:4: warning: shouts{HOSTILE}\n"
    scripted.replies.extend([reply, reply])
    code, out, _ = run("review", str(root), "--format", "json")
    assert code == 0 and "\\u001b]52;c;aGk=\\u0007" in out  # escaped, not written raw
    data = json.loads(out)
    assert data["reply"] == f"app.py: shout\n{reply}"  # under the definition reviewed
    assert data["findings"][0]["message"] == f"shouts{HOSTILE}"
    code, out, _ = run("review", str(root), "--format", "sarif")
    assert_printable(out)
    message = json.loads(out)["runs"][0]["results"][0]["message"]["text"]
    assert HOSTILE in message


def test_review_text_cleans_the_models_findings(tmp_path: Path,
                                                scripted: FakeBackend) -> None:
    root = tmp_path / "r"
    make_repo(root, {"app.py": APP})
    (root / "app.py").write_text(APP + "\ndef shout(s):\n    return s.upper()\n")
    scripted.replies.append(f"Findings:\n- app.py:4: warning: shouts{HOSTILE}\n")
    code, out, err = run("review", str(root))
    assert code == 0 and "warning: shouts]52;c;aGk=[2K[1G31m" in out
    assert_printable(out, err)


# Erasing its own line on a terminal, the added line would read "+# harmless".
EDIT = ("app.py\n<<<<<<< SEARCH\n    return 'hi ' + name\n=======\n"
        f"    return 'hello ' + name  # {HIDE}+# harmless\n>>>>>>> REPLACE\n")


def test_edit_dry_run_shows_a_line_that_would_hide_itself(tmp_path: Path,
                                                          scripted: FakeBackend) -> None:
    make_repo(tmp_path / "r", {"app.py": APP})
    scripted.replies.append(EDIT)
    code, out, err = run("edit", "say hello", str(tmp_path / "r"), "--dry-run", "--no-check")
    assert code == 0 and "+    return 'hello ' + name  # [2K[1G+# harmless" in out
    assert_printable(out, err)


def test_edit_errors_quoting_the_reply_are_cleaned(tmp_path: Path,
                                                   scripted: FakeBackend) -> None:
    make_repo(tmp_path / "r", {"app.py": APP})
    broken = EDIT.replace("  # ", "")  # ESC outside a comment: the file no longer parses
    scripted.replies.extend([broken, broken])
    code, out, err = run("edit", "say hello", str(tmp_path / "r"), "--dry-run", "--no-check",
                         "--candidates", "1")
    assert code == 1 and "does not parse" in err and "name[2K[1G+# harmless" in err
    assert_printable(out, err)


def test_edit_json_keeps_the_reply_exactly(tmp_path: Path, scripted: FakeBackend) -> None:
    make_repo(tmp_path / "r", {"app.py": APP})
    scripted.replies.append(EDIT)
    code, out, _ = run("edit", "say hello", str(tmp_path / "r"), "--dry-run", "--no-check",
                       "--json")
    report = json.loads(out)
    assert code == 0 and report["replies"] == [EDIT]
    assert HIDE in report["files"][0]["diff"]
    assert_printable(out)


def test_ask_streams_an_answer_without_its_controls(tmp_path: Path,
                                                    scripted: FakeBackend) -> None:
    make_repo(tmp_path / "r", {"app.py": APP})
    scripted.replies.append(f"It greets.{HOSTILE} Done.")
    code, out, err = run("ask", "what?", str(tmp_path / "r"))
    assert code == 0 and out == "It greets.]52;c;aGk=[2K[1G31m Done.\n"
    assert_printable(out, err)


def test_ask_json_keeps_the_answer_exactly(tmp_path: Path, scripted: FakeBackend) -> None:
    make_repo(tmp_path / "r", {"app.py": APP})
    scripted.replies.append(f"It greets.{HOSTILE}")
    code, out, _ = run("ask", "what?", str(tmp_path / "r"), "--json")
    assert code == 0 and json.loads(out)["answer"] == f"It greets.{HOSTILE}"
    assert_printable(out)


def test_an_error_quoting_a_path_is_cleaned(tmp_path: Path) -> None:
    code, out, err = run("review", str(tmp_path / f"gone{HOSTILE}"))
    assert code == 2 and "codectx: error:" in err and "gone]52;c;aGk=[2K[1G31m" in err
    assert_printable(out, err)


def test_index_json_escapes_a_c1_file_name_and_keeps_it(tmp_path: Path) -> None:
    root = tmp_path / "r"
    make_repo(root, {"app.py": APP, "odd\x9b\x7f.py": "X = 1\n"})
    code, out, _ = run("index", str(root), "--json", "-q")
    assert code == 0
    assert_printable(out)
    assert "odd\x9b\x7f.py" in [f["path"] for f in json.loads(out)["files"]]
