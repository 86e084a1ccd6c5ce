#!/usr/bin/env python3
"""The layers, checked against the code (issue: the house).

usage: check-layers.py SRC_DIR LAYERS_TXT BUILD_DIR CC [CC_ARGS...]

LAYERS_TXT is written by meson.build: one line per library, "NAME LAYER
FOLDER...", the folders its include view holds (its own first). Checks, each
a TAP case:
  1. includes: every #include "..." in src/ names FOLDER/FILE.h (or the
     generated ccmm_config.h) with FOLDER in the including library's view;
  2. layers: no include goes to a folder of a higher layer;
  3. internal headers (internal.h, and the kinds' private headers) are
     included only inside their own folder or kind set;
  4. no cycle in the include graph, between folders or between files;
  5. every header compiles on its own, with its library's include view.
"""
import os
import re
import subprocess
import sys

src, table, build = sys.argv[1], sys.argv[2], sys.argv[3]
cc = sys.argv[4:]

libs = {}          # library -> (layer, [folders])
for line in open(table):
    line = line.strip()
    if not line or line.startswith('#'):
        continue
    name, layer, *folders = line.split()
    libs[name] = (int(layer), folders)

# The library a file belongs to: its folder's, or for the actor kinds its kind set's.
kind_sets = sorted((n[len('kinds-'):] for n in libs if n.startswith('kinds-')), key=len, reverse=True)


def owner(rel):
    folder = os.path.dirname(rel)
    if folder == 'scenario/kinds':
        base = os.path.basename(rel)
        if base.startswith('kind_sets_table'):
            return 'kinds'
        for s in kind_sets:
            if base == s + '.c' or base == s + '.h' or base.startswith(s + '-'):
                return 'kinds-' + s
        return None
    if folder == 'cli':
        return 'cli'
    return folder if folder in libs else None


# the front end sits on top of everything it includes
libs['cli'] = (6, ['cli', 'trace'] + libs['plot'][1])
layer_of_folder = {}
for n, (layer, folders) in libs.items():
    if not n.startswith('kinds'):
        layer_of_folder[folders[0]] = layer
layer_of_folder['scenario/kinds'] = 4

files = []
for root, _, names in os.walk(src):
    for f in names:
        if f.endswith(('.c', '.h')):
            files.append(os.path.relpath(os.path.join(root, f), src))
files.sort()

inc_re = re.compile(r'^\s*#\s*include\s+"([^"]+)"', re.M)
fails = {1: [], 2: [], 3: [], 4: [], 5: []}
edges = {}          # file -> included files
folder_edges = {}
for rel in files:
    text = open(os.path.join(src, rel)).read()
    lib = owner(rel)
    if lib is None:
        fails[1].append(f'{rel}: belongs to no library of the layer table')
        continue
    layer, view = libs[lib]
    edges[rel] = []
    for m in inc_re.finditer(text):
        target = m.group(1)
        line = text.count('\n', 0, m.start()) + 1
        where = f'src/{rel}:{line}'
        if target == 'ccmm_config.h':
            continue
        if '..' in target.split('/') or target.count('/') < 1 or not target.endswith('.h'):
            fails[1].append(f'{where}: #include "{target}" is not FOLDER/FILE.h')
            continue
        tfolder = os.path.dirname(target)
        if not os.path.exists(os.path.join(src, target)):
            fails[1].append(f'{where}: #include "{target}": no such header in src/')
            continue
        edges[rel].append(target)
        top = tfolder.split('/')[0]
        if top not in view:
            fails[1].append(f'{where}: {lib} includes "{target}", outside its view ({" ".join(view)})')
        tl = layer_of_folder.get(tfolder, layer_of_folder.get(top))
        if tl is not None and tl > layer:
            fails[2].append(f'{where}: layer {layer} ({lib}) includes "{target}" of layer {tl}')
        if os.path.dirname(rel) != tfolder:
            folder_edges.setdefault(os.path.dirname(rel), set()).add(tfolder)
        base = os.path.basename(target)
        if base == 'internal.h' and tfolder != os.path.dirname(rel):
            fails[3].append(f'{where}: includes another folder\'s internal header "{target}"')
        if tfolder == 'scenario/kinds' and owner(target) != lib:
            fails[3].append(f'{where}: includes another kind set\'s header "{target}"')


def cycles(graph):
    """Every cycle found by a depth-first walk, as a list of nodes."""
    seen, stack, on, found = set(), [], set(), []

    def walk(n):
        seen.add(n)
        stack.append(n)
        on.add(n)
        for t in sorted(graph.get(n, ())):
            if t in on:
                found.append(stack[stack.index(t):] + [t])
            elif t not in seen:
                walk(t)
        stack.pop()
        on.discard(n)

    for n in sorted(graph):
        if n not in seen:
            walk(n)
    return found


for c in cycles(folder_edges):
    fails[4].append('folders: ' + ' -> '.join(c))
for c in cycles(edges):
    fails[4].append('files: ' + ' -> '.join(c))

# every header compiles on its own
for rel in files:
    if not rel.endswith('.h'):
        continue
    lib = owner(rel)
    if lib is None:
        continue
    view = os.path.join(build, 'views', lib)
    proc = subprocess.run(cc + ['-fsyntax-only', '-x', 'c', '-std=c17', '-D_GNU_SOURCE', '-Wall', '-Werror',
                                '-I' + view, '-I' + build, '-'],
                          input=f'#include "{rel}"\n', capture_output=True, text=True)
    if proc.returncode:
        fails[5].append(f'src/{rel} does not compile on its own:\n' + proc.stderr.strip())

names = {1: 'includes stay inside each library\'s view', 2: 'no include goes up a layer',
         3: 'internal headers stay inside their folder', 4: 'the include graph has no cycle',
         5: 'every header compiles on its own'}
print(f'1..{len(names)}')
status = 0
for i, what in names.items():
    if fails[i]:
        status = 1
        print(f'not ok {i} - {what}')
        for f in fails[i]:
            for l in f.splitlines():
                print(f'# {l}')
    else:
        print(f'ok {i} - {what}')
sys.exit(status)
