"""The sweep engine: presets and sweep files, jobs, running them, run files, tuning.

``presets`` and ``spec`` say what a sweep is, ``machines`` what each job's machine is,
``job`` what one run is, ``execute`` runs one, ``runner`` runs many (lock, resume, pools),
``interrupts`` stops them cleanly, ``runfiles`` reads and writes their files, ``tune``
chooses settings, ``baselines`` fits the scikit-learn references, ``host`` describes the
computer. Importing this package loads nothing heavy.
"""
