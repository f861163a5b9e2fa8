"""The one place that draws: everything a person reads, in a terminal or a file.

    console    stdout and stderr consoles, progress bars
    compare    the comparison table, its sentences, JSON and CSV
    fetch      the line `fetcher fetch` ends with
    timeline   per-request lanes as text        plots      the same, and sweeps, as PNG charts
    sweep      the sweep table                  load       `fetcher load`'s live line and report
    gil        `fetcher gil`'s tables
    html/      the self-contained HTML reports of compare, sweep and load

The library never prints; commands hand what it returns to these modules.
"""
