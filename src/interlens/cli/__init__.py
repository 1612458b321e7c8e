"""The ``interlens`` command line: one typer app; every command is also a Python function."""

from __future__ import annotations

import typer

from . import bench as bench_cmd
from . import data as data_cmd
from . import debias as debias_cmd
from . import experts as experts_cmd
from . import hf as hf_cmd
from . import interactions as interactions_cmd
from . import main_cmds
from . import mint as mint_cmd
from . import report as report_cmd
from . import scorers as scorers_cmd
from . import verify as verify_cmd
from .common import DEBUG_OPTION, set_debug

app = typer.Typer(help="interlens: measure and use multimodal interactions.", no_args_is_help=True,
                  pretty_exceptions_show_locals=False)
main_cmds.register(app)
hf_cmd.register(app)
scorers_cmd.register(app)
report_cmd.register(app)
verify_cmd.register(app)
app.add_typer(data_cmd.app, name="data", help="List and inspect datasets.")
app.add_typer(interactions_cmd.app, name="interactions", help="Categorise, score and group interactions.")
app.add_typer(experts_cmd.app, name="experts", help="Interaction experts, router and fusion (MMoE).")
app.add_typer(bench_cmd.app, name="bench", help="MMLA benchmark: tasks, runs, leaderboards.")
app.add_typer(debias_cmd.app, name="debias", help="Counterfactual debiasing: MID, MCTD, MME-JD, MRID.")
app.add_typer(mint_cmd.app, name="mint", help="MINT: interaction-grouped multi-task tuning.")


def _version(value: bool) -> None:
    if value:
        from ..provenance import interlens_revision, interlens_version

        revision = interlens_revision()
        typer.echo(f"interlens {interlens_version()}" + (f" ({revision})" if revision else ""))
        raise typer.Exit()


@app.callback()
def _root(version: bool = typer.Option(False, "--version", callback=_version, is_eager=True,
                                       help="Print interlens's version (and source revision) and exit."),
          debug: bool = DEBUG_OPTION,
          verbose: int = typer.Option(0, "--verbose", "-v", count=True,
                                      help="More log output (debug messages of the library)."),
          quiet: bool = typer.Option(False, "--quiet", "-q", help="Only warnings and errors; no progress bars.")
          ) -> None:
    """interlens: measure and use multimodal interactions."""
    from ..logs import configure

    set_debug(debug)  # --debug: the traceback instead of the one-line error
    configure(verbose=verbose, quiet=quiet)  # the `interlens` logger's level, progress bars on/off


def main() -> None:
    app()
