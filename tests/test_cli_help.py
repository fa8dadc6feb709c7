"""Every command has help with an example, and README.md names every command."""

from __future__ import annotations

import click
import pytest
from click.testing import CliRunner

from tests.conftest import ROOT
from usetest.cli import cli

COMMANDS = sorted(cli.commands)


def test_there_are_commands():
    assert {"validate", "schema", "new"} <= set(COMMANDS)


@pytest.mark.parametrize("name", COMMANDS)
def test_every_command_has_help_with_an_example(name):
    result = CliRunner().invoke(cli, [name, "--help"])
    assert result.exit_code == 0, result.output
    assert "Example" in result.output, f"usetest {name} --help shows no example"
    command = cli.commands[name]
    assert isinstance(command, click.Command) and command.help


@pytest.mark.parametrize("name", COMMANDS)
def test_readme_names_every_command(name):
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    assert f"usetest {name}" in readme, f"README.md does not mention `usetest {name}`"


def test_version_and_group_help():
    runner = CliRunner()
    assert runner.invoke(cli, ["--version"]).output.startswith("usetest, version")
    assert "validate" in runner.invoke(cli, ["--help"]).output
