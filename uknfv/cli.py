"""The `uknfv` command."""
from __future__ import annotations

import json
import os
import sys
from functools import wraps

import click

from .diag import UknfvError

TARGETS = ["linux"]


def _friendly(fn):
    """Print UknfvError cleanly and exit 1: no traceback for user mistakes."""

    @wraps(fn)
    def wrapper(*a, **kw):
        try:
            return fn(*a, **kw)
        except UknfvError as e:
            click.echo(str(e), err=True)
            sys.exit(1)
        except KeyboardInterrupt:
            sys.exit(130)

    return wrapper


@click.group(context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(package_name="uknfv")
def main() -> None:
    """uknfv: compile Click pipelines into specialised network functions."""


target_opt = click.option("--target", "-t", type=click.Choice(TARGETS), default="linux",
                          show_default=True, help="Where the vNF runs.")
defines_arg = click.argument("defines", nargs=-1, metavar="[NAME=VALUE]...")


@main.command()
@click.argument("file")
@defines_arg
@target_opt
@_friendly
def check(file: str, defines: tuple[str, ...], target: str) -> None:
    """Check a configuration: syntax, classes, arguments, ports, push/pull."""
    from .pipeline import load, parse_defines
    g = load(file, parse_defines(defines), target)
    click.echo(f"{file}: ok ({len(g.instances)} elements, {len(g.conns)} connections, "
               f"target {target})")


@main.command()
@click.argument("file")
@defines_arg
@_friendly
def flatten(file: str, defines: tuple[str, ...]) -> None:
    """Print the elaborated configuration (compounds expanded), like click-flatten."""
    from .lang.flatten import unparse
    from .pipeline import load_flat, parse_defines
    click.echo(unparse(load_flat(file, parse_defines(defines))), nl=False)


@main.command()
@click.argument("file")
@defines_arg
@click.option("-o", "--output", required=True, help="x.svg, x.png, x.pdf or x.dot")
@target_opt
@_friendly
def graph(file: str, defines: tuple[str, ...], output: str, target: str) -> None:
    """Draw the element graph with Graphviz, ports labelled."""
    from . import dot
    from .pipeline import load, parse_defines
    dot.write(load(file, parse_defines(defines), target), output)
    click.echo(f"wrote {output}")


def _build(file, defines, target, opt):
    from . import targets
    from .pipeline import load, parse_defines
    g = load(file, parse_defines(defines), target)
    return g, targets.get(target).build(g, opt=opt)


opt_opt = click.option("--opt", type=click.Choice(["O2", "release", "sanitize"]), default="O2",
                       show_default=True,
                       help="O2; release (-O3 -march=native); sanitize (ASan+UBSan).")


@main.command()
@click.argument("file")
@defines_arg
@target_opt
@click.option("-o", "--output", required=True, help="Where to write the program.")
@opt_opt
@_friendly
def build(file: str, defines: tuple[str, ...], target: str, output: str, opt: str) -> None:
    """Build a standalone vNF program (and OUTPUT.json describing it)."""
    import shutil
    g, built = _build(file, defines, target, opt)
    try:
        shutil.copyfile(built.path, output)
        os.chmod(output, 0o755)
    except OSError as e:
        raise UknfvError(f"cannot write {output}: {e.strerror}") from None
    meta = {
        "pipeline": file, "target": target, "opt": opt,
        "elements": [{"name": i.name, "class": i.cls, "config": i.config,
                      "inputs": i.in_proc, "outputs": i.out_proc} for i in g.instances],
        "connections": [[c.src.name, c.sport, c.dst.name, c.dport] for c in g.conns],
        "ports": [{"name": n, "rx": bool(b & 1), "tx": bool(b & 2)} for n, b in built.emitted.ports],
        "handlers": [f"{e}.{h}" for e, h in built.emitted.handlers],
        "libraries": built.libs,
        "cflags": built.cflags,
        "size": os.path.getsize(output),
    }
    with open(output + ".json", "w") as f:
        json.dump(meta, f, indent=2)
    click.echo(f"wrote {output} ({meta['size']} bytes) and {output}.json")


@main.command(context_settings={"ignore_unknown_options": False})
@click.argument("file")
@defines_arg
@target_opt
@click.option("--port", "ports", multiple=True, metavar="NAME=SPEC",
              help="Bind a logical port: NAME=pcap:FILE | if:IFACE | tap:NAME.")
@click.option("--stats", is_flag=True, help="Print every handler at exit.")
@opt_opt
@_friendly
def run(file: str, defines: tuple[str, ...], target: str, ports: tuple[str, ...], stats: bool,
        opt: str) -> None:
    """Build (cached) and run a pipeline until its sources stop or SIGINT."""
    _, built = _build(file, defines, target, opt)
    argv = [str(built.path)]
    for p in ports:
        argv += ["--port", p]
    if stats:
        argv.append("--stats")
    sys.stdout.flush()
    sys.stderr.flush()
    os.execv(argv[0], argv)


@main.command()
@click.argument("name", required=False)
@_friendly
def elements(name: str | None) -> None:
    """List the element library, or show one element's documentation."""
    from . import registry
    from .docs import element_doc
    lib = registry.library()
    if name is None:
        width = max(len(n) for n in lib)
        for n in sorted(lib):
            spec = lib[n]
            summary = (spec.doc.strip().splitlines() or [""])[0]
            click.echo(f"{n:<{width}}  {spec.group:<9} {summary}")
        return
    spec = registry.lookup(name)
    if spec is None:
        raise UknfvError(f"no element class '{name}' (see `uknfv elements` for the list)")
    click.echo(element_doc(spec))


def _pipeline_libs(file: str, defines: tuple[str, ...], target: str):
    from . import targets
    from .pipeline import load, parse_defines
    return targets.get(target).libraries(load(file, parse_defines(defines), target))


@main.command()
@click.argument("file")
@defines_arg
@target_opt
@_friendly
def menuconfig(file: str, defines: tuple[str, ...], target: str) -> None:
    """Change the build options of the libraries a pipeline links (saved as NAME.config)."""
    from . import kconfig
    saved = kconfig.menuconfig(_pipeline_libs(file, defines, target), file)
    click.echo(f"options saved in {saved}" if saved.exists() else "no options saved")


@main.command("config")
@click.argument("file")
@defines_arg
@target_opt
@click.option("--set", "assignments", multiple=True, metavar="NAME=VALUE",
              help="Set a build option (saved next to the pipeline).")
@_friendly
def config_cmd(file: str, defines: tuple[str, ...], target: str, assignments: tuple[str, ...]) -> None:
    """Show (or --set) the build options in force for a pipeline and target."""
    from . import kconfig
    libs_ = _pipeline_libs(file, defines, target)
    if assignments:
        pairs = {}
        for a in assignments:
            if "=" not in a:
                raise UknfvError(f"--set expects NAME=VALUE, got '{a}'")
            k, v = a.split("=", 1)
            pairs[k] = v
        click.echo(f"saved {kconfig.set_options(libs_, file, pairs)}")
    opts = kconfig.options(libs_, file)
    for name, value in sorted(opts.values.items()):
        click.echo(f"CONFIG_{name}={value}")


@main.command()
def demo() -> None:
    """The main job: build the example router, push traffic through it, show the result."""
    from .traffic.demo import main as demo_main
    sys.exit(demo_main())


@main.command("libs")
def libs_cmd() -> None:
    """List the C micro-libraries."""
    from . import libs
    for n in libs.available():
        lib = libs.load(n)
        deps = f" (needs {', '.join(lib.depends)})" if lib.depends else ""
        click.echo(f"{n:<10} {lib.summary}{deps}")


if __name__ == "__main__":
    main()
