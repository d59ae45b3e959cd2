"""The web dashboard (``scslab serve``). ``params``, ``live`` and ``charts`` import no web framework; only
``dashboard`` needs Solara (``pip install 'scslab[app]'``)."""
