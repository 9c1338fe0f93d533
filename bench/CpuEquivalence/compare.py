#!/usr/bin/env python3
# compare.py A.bin B.bin: cosine, identical values and largest difference of two feature files (960 floats a photo).
import sys, struct, math
def load(p):
    b=open(p,'rb').read(); n=len(b)//4
    v=struct.unpack(f'{n}f',b); d=960
    return [v[i*d:(i+1)*d] for i in range(n//d)]
def cos(a,b):
    return sum(x*y for x,y in zip(a,b))/math.sqrt(sum(x*x for x in a)*sum(y*y for y in b))
a=load(sys.argv[1]); b=load(sys.argv[2])
cs=[cos(x,y) for x,y in zip(a,b)]
same=sum(1 for x,y in zip(a,b) for p,q in zip(x,y) if p==q); tot=sum(len(x) for x in a)
mad=max(abs(p-q) for x,y in zip(a,b) for p,q in zip(x,y))
print(f"{sys.argv[1]} vs {sys.argv[2]}: min cos {min(cs):.7f} mean {sum(cs)/len(cs):.7f} identical {same}/{tot} max|d| {mad:.3g}")
