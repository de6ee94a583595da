"""``python -m bot``: the ``k6bot`` command itself (:func:`bot.launch.main`, the console script's entry point).

Unlike ``python -m bot.cli`` (which imports typer first), it takes the same typer-free paths as ``k6bot``:
``k6bot mcp`` and ``k6bot serve [--host H] [--port P]``.
"""

from bot.launch import main

main()
