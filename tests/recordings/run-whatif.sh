#!/usr/bin/env bash
# run-whatif.sh CCMM RECORDINGS: ccmm trace whatif answers what the
# recorded DMA would cost elsewhere, and its JSON says so:
#   virtio-blk: with swiotlb=force (recorded) every mapping bounces, without
#     it (none) none does; made a TDX, SEV-SNP or pSeries secure guest,
#     every mapping bounces again and the 64 MiB pool is converted once
#     (16384 pages); TDX coherent memory is converted too
#   e1000: the TDX guest's allow-list refuses the NICs (their calls are not
#     made); a pSeries secure guest with its bounce buffers in the 64-bit
#     DDW cannot serve their 32-bit mask (seed 002: every mapping fails),
#     in the 32-bit window it can
set -u
ccmm=$(realpath "$1")
recs=$(realpath "$2")
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
for r in virtio-blk e1000; do
	"$ccmm" trace whatif "$recs/$r" --json "$tmp/$r.json" > "$tmp/$r.txt" || { cat "$tmp/$r.txt"; echo "not ok: whatif $r"; exit 1; }
	cat "$tmp/$r.txt"
done
python3 - "$tmp" <<'PY'
import json, sys
d = sys.argv[1]
def runs(r):
    return {x['platform']: x for x in json.load(open(f'{d}/{r}.json'))}
def dev(run, i=0):
    return run['devices'][i]
fails = []
def want(what, got, exp):
    if got != exp:
        fails.append(f'{what}: {got}, expected {exp}')
v = runs('virtio-blk')
want('platforms', sorted(v), sorted(['recorded', 'none', 'tdx', 'sev-snp', 'pseries-svm ddw', 'pseries-svm dma32']))
rec = dev(v['recorded'])
want('recorded: every mapping bounced (swiotlb=force)', rec['bounced'], rec['maps'])
if not rec['maps'] or not rec['bounce_bytes']:
    fails.append('recorded: nothing mapped or bounced')
want('none bounced', dev(v['none'])['bounced'], 0)
want('none hiwater', v['none']['pool']['io_tlb_used_hiwater'], 0)
for p in ['tdx', 'sev-snp', 'pseries-svm ddw', 'pseries-svm dma32']:
    want(p + ' bounced', dev(v[p])['bounced'], rec['maps'])
    want(p + ' bounce bytes', dev(v[p])['bounce_bytes'], rec['bounce_bytes'])
    want(p + ' failures', dev(v[p])['map_failures'], 0)
    want(p + ' pool made shared (64 MiB)', v[p]['pool']['shared_pages'], 16384)
    want(p + ' hiwater', v[p]['pool']['io_tlb_used_hiwater'], v['recorded']['pool']['io_tlb_used_hiwater'])
    if not dev(v[p])['to_shared']:
        fails.append(p + ': the coherent virtqueue was not made shared')
want('recorded pool made shared', v['recorded']['pool']['shared_pages'], 0)
if not dev(v['tdx'])['modeled_ns'] > 10 * dev(v['none'])['modeled_ns']:
    fails.append('tdx should cost far more modeled time than none')
e = runs('e1000')
for i in range(2):
    want(f'tdx nic {i} bound', dev(e['tdx'], i)['bound'], False)
    if not dev(e['tdx'], i)['refused']:
        fails.append(f'tdx nic {i}: no call counted as refused')
    want(f'pseries ddw nic {i} failures', dev(e['pseries-svm ddw'], i)['map_failures'], dev(e['pseries-svm ddw'], i)['maps'])
    want(f'pseries dma32 nic {i} failures', dev(e['pseries-svm dma32'], i)['map_failures'], 0)
want('pseries dma32 hiwater', e['pseries-svm dma32']['pool']['io_tlb_used_hiwater'], e['recorded']['pool']['io_tlb_used_hiwater'])
for f in fails:
    print('not ok:', f)
sys.exit(1 if fails else 0)
PY
status=$?
[ $status -eq 0 ] && echo "ok: the what-if answers"
exit $status
