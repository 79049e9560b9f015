"""Regenerate every PyTorch fixture: run each generator in tools/reference/ in turn.

A generator is any `*_fixtures.py` or `make_*.py` file in this folder (this file excepted), so a new one
is picked up without editing this list. Each runs from the repository root with the same interpreter
(Debian's /usr/bin/python3, which has python3-torch), and the first failure stops the run.

  npm run fixtures          # = /usr/bin/python3 tools/reference/make_all.py
  /usr/bin/python3 tools/reference/make_all.py ops   # only generators whose name contains "ops"
  /usr/bin/python3 tools/reference/make_all.py --list  # print the generators found, run nothing
"""
import os
import subprocess
import sys
import time

HERE = os.path.dirname(os.path.abspath(__file__))
REPO = os.path.abspath(os.path.join(HERE, '..', '..'))


def generators():
    me = os.path.basename(__file__)
    names = [n for n in os.listdir(HERE)
             if n.endswith('.py') and n != me and (n.endswith('_fixtures.py') or n.startswith('make_'))]
    return sorted(names)


def main(argv):
    wanted = [a for a in argv[1:] if a != '--list']
    names = [n for n in generators() if not wanted or any(w in n for w in wanted)]
    if not names:
        sys.exit(f'no generator matches {wanted} (found: {", ".join(generators())})')
    if '--list' in argv:
        print('\n'.join(names))
        return
    for name in names:
        print(f'== {name}', flush=True)
        start = time.time()
        result = subprocess.run([sys.executable, os.path.join(HERE, name)], cwd=REPO)
        if result.returncode != 0:
            sys.exit(f'{name} failed with exit status {result.returncode}')
        print(f'   {name}: {time.time() - start:.1f} s', flush=True)


if __name__ == '__main__':
    main(sys.argv)
