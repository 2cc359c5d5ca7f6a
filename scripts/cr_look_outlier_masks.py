"""Old vs new pre-existing-outlier masks of the unseen frames (issue 10, step 1).

    python scripts/cr_look_outlier_masks.py OLD_DIR NEW_DIR OUT.png   # folders of <name>.npz (build_cr_backgrounds --out)
"""
import sys
import numpy as np, matplotlib; matplotlib.use("Agg"); import matplotlib.pyplot as plt
names=['gemini_gmos_s_spectrum','aspen_cg16_amateur','kpno_m51_iraf','ukirt_wfcam_ukidss','saao_1m_ste3']
fig,axes=plt.subplots(2,5,figsize=(30,12))
for j,n in enumerate(names):
    a=np.load(f'{sys.argv[1]}/{n}.npz'); b=np.load(f'{sys.argv[2]}/{n}.npz')
    d=b['data']; m0=a['mask']; m1=b['mask']
    good=d[~m1]; med=np.median(good); sig=1.4826*np.median(np.abs(good-med))
    for i,(ax,lo) in enumerate(zip(axes[:,j],[(-1,5),(-1,60)])):
        ax.imshow(np.arcsinh((np.where(m1 & ~m0, np.nan, d)-med)/(2*sig)) if False else np.arcsinh((d-med)/(2*sig)),origin='lower',cmap='gray',vmin=-1,vmax=6 if i==0 else 9)
        yy,xx=np.nonzero(m1&~m0); ax.plot(xx,yy,'r.',ms=2)
        yy,xx=np.nonzero(m0); ax.plot(xx,yy,'c.',ms=1)
        ax.set_title(f'{n}: cyan=old rule, red=added by the new')
fig.tight_layout(); fig.savefig(sys.argv[3],dpi=45)
