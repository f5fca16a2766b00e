import json,sys
def gv(path):
    dec=json.JSONDecoder(); s=open(path).read(); i=0; out={}
    while i < len(s):
        while i < len(s) and s[i].isspace(): i+=1
        if i>=len(s): break
        o,j=dec.raw_decode(s,i); i=j
        f=o.get("finding")
        if not f: continue
        t=f["trace"][0]
        lvl="called" if t.get("function") else ("imported" if t.get("package") else "required")
        rank={"called":3,"imported":2,"required":1}
        if rank[lvl] > rank.get(out.get(f["osv"]),0): out[f["osv"]]=lvl
    return out
def rl(path):
    r=json.load(open(path)); return {f["id"]:f["reach"] for f in r["findings"]}
for b in ["hello-default","hello-stripped"]:
    g,r=gv(f"/tmp/gv-{b}.json"),rl(f"/tmp/rl-{b}.json")
    print(b, "govulncheck:", len(g), sorted(set(g.values())) and {k:list(g.values()).count(k) for k in set(g.values())}, "redline:", len(r), {k:list(r.values()).count(k) for k in set(r.values())})
    print("  same IDs:", set(g)==set(r), "same levels:", g==r, "diff:", {k:(g.get(k),r.get(k)) for k in set(g)|set(r) if g.get(k)!=r.get(k)})
