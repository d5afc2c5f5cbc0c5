/* SPDX-License-Identifier: BSD-3-Clause */
/* redis_tags.c - session tags in Redis keys (see redis_tags.h). */
#include "config.h"

#include <string.h>

#include "redis_slot.h"
#include "redis_tags.h"

/*
 * New tag index v -> the text between its keys' braces. Made by
 * scripts/gen-redis-tags.py, recomputed by tests/test_tags.c; a storage
 * format (sessions live under these keys): never edit it.
 */
static const char braces[CK_TAG_NEW_COUNT][CK_RS_BRACES_MAX + 1] = {
    "DLH", "Bli", "BaY", "F9", "BnX", "Bch", "Fhh", "AXh", "AUX", "FjY",
    "AZY", "AWi", "Cpb", "EPC", "DMR", "Bbr", "DBS", "DOc", "ATB", "FdB",
    "Ap", "AVs", "Nq", "CA", "AIo", "Qm", "Ft_", "HRg", "NrF", "Fvn",
    "B9f", "EMn", "F45", "JvG", "EO_", "DRN", "FuE", "AEE", "AHu", "_v",
    "AGt", "AJD", "DQe", "BqD", "ClU", "DST", "Bsu", "Cnd", "LfD", "JFe",
    "BBM", "e-", "BML", "JId", "NBd", "HbE", "AvL", "aO", "AyM", "A0u",
    "As4", "k6", "DnF", "BAf", "DaG", "Dlw", "AwV", "oT", "FJf", "Aug",
    "me", "Ex4", "CJ9", "ry", "FWK", "AhJ", "pH", "9p", "JWb", "Enz",
    "Dsk", "CLj", "D8b", "DqZ", "Ef2", "AfQ", "Aka", "8j", "H9Q", "AiP",
    "z1", "Ab3", "COA", "D4H", "BPa", "Am2", "DNh", "BnI", "Bcy", "DLY",
    "Blx", "BaH", "BJ", "AZH", "AWx", "Fhy", "AXy", "AUI", "Bbc", "DBB",
    "G2", "AP1", "H3", "DMC", "AVb", "Ffb", "CP", "ATS", "LQ", "Aa",
    "AKO", "SM", "F2w", "C-4", "Gi_", "ED-", "AO-", "D_o", "DR_", "B9w",
    "LTF", "DPn", "_g", "AGe", "AJU", "EE7", "AET", "AHd", "DSE", "Bsd",
    "AN7", "Y4", "AA6", "B8m", "E9U", "A96", "CPL", "DoM", "BOl", "A67",
    "OPe", "IpD", "Atl", "co", "HbT", "A2U", "BAw", "DaV", "Dlf", "A7-",
    "Dcg", "DnW", "Auv", "mt", "FHF", "AwG", "oE", "bu", "BX8", "pY",
    "FUk", "Ajj", "rh", "Eg9", "Al9", "D8s", "DqK", "CNJ", "Enk", "Dsz",
    "Dt3", "Adq", "AiA", "GFa", "IoX", "Akp", "DpQ", "BPp", "CMa", "D6h",
    "BRA", "B_q", "FhJ", "AXJ", "AUz", "By", "Cz9", "AWK", "DLj", "BlK",
    "CqZ", "LGC", "Bnz", "BcJ", "HMY", "Lb", "AR", "AVQ", "NS", "Cc",
    "C4H", "EPa", "E0", "AR3", "J1", "DOA", "B9D", "U-", "LYE", "Jve",
    "LVD", "DRl", "AIM", "QO", "F0u", "HRE", "Nrd", "FvL", "DQG", "Bqf",
    "AL5", "DSv", "AC4", "CnF", "Fug", "AEg", "AHW", "_T", "AGV", "AJf",
    "M6-", "Hbg", "Avn", "am", "Ayo", "At_", "Lff", "BO_", "BBo", "DmO",
    "BMn", "A45", "Awt", "ov", "bF", "AuE", "mG", "Dh7", "BCu", "DcT",
    "Dnd", "BAD", "--", "DlU", "CNy", "v9", "DsI", "CLH", "Eli", "y8",
    "AjY", "6S", "FWi", "Ahh", "pj", "9R", "DrS", "BRr", "B_B", "Dpb",
    "BPC", "CMR", "Dv1", "Afs", "AkC", "8H", "AdB", "Air", "Bh", "AZj",
    "AWZ", "EX8", "Bh8", "AUk", "DNJ", "Bnk", "AS8", "3", "BlZ", "Baj",
    "HOy", "NB", "Cr", "ATq", "Ls", "AC", "BbA", "ERA", "DOP", "CpQ",
    "EPp", "DMa", "CoM", "D_M", "F67", "B9U", "F96", "DPL", "AKm", "So",
    "F2U", "HPe", "G-u", "Ftl", "DSg", "BsF", "CnW", "DQV", "Bqw", "B8O",
    "_E", "AGG", "AJw", "DU4", "AEv", "AHF", "D-4", "Ipf", "AtN", "cM",
    "Hbv", "A2w", "E9w", "JDg", "CPn", "Doo", "BON", "CR_", "AuT", "mV",
    "FHd", "Awe", "og", "bW", "Aq6", "i4", "DlD", "BCd", "DcE", "Dnu",
    "CLY", "D8Q", "Dqi", "CNh", "EnI", "DsX", "Ahy", "4s", "9C", "AjH",
    "rJ", "D32", "x3", "BPR", "CMC", "DrB", "BRc", "Ao0", "8Y", "AdS",
    "Aic", "FVb", "Afb", "AkR", "APd", "Hf", "EV", "ARU", "JW", "Gg",
    "Bde", "DDD", "A4", "AV7", "N5", "DKE", "D", "Bl-", "C54", "Ngg",
    "HGF", "ASO", "DHn", "BhO", "C1V", "DJ_", "Cz_", "AW-", "DUC", "Bub",
    "AH1", "_2", "AG0", "Bzc", "Ya", "AAc", "ALS", "EC1", "ACR", "ANb",
    "ByH", "DYi", "DTY", "CkX", "EKy", "DVh", "AMI", "UK", "Fpy", "AOx",
    "Wz", "ZJ", "Asp", "kr", "fB", "AqA", "iC", "ds", "BGq", "DgP",
    "EzA", "CUa", "Dea", "DhQ", "gX", "BO9", "Arj", "ei", "A9c", "A4S",
    "Dkz", "JBC", "BFk", "DiK", "BIj", "At9", "DvW", "BVv", "CKg", "Dtf",
    "BTG", "BYw", "zu", "Abw", "AoG", "xD", "I-V", "Amv", "JSD", "Lse",
    "DwM", "BXm", "DxL", "D1t", "Hwd", "v_", "FSm", "All", "tn", "NXD",
    "ARD", "JF", "Gv", "APu", "Hw", "EG", "BfE", "DFd", "DKT", "Bdt",
    "DDU", "DIe", "Fl", "HGW", "HJg", "U", "HEf", "AQo", "DJN", "Bjo",
    "Bg_", "LAg", "JaF", "Ben", "DWc", "BwB", "Bzr", "DUR", "Bus", "BxC",
    "FsC", "ACC", "ANs", "Yp", "AAr", "ALB", "CkI", "EKh", "DVy", "ByY",
    "Q8", "DTH", "AOi", "Wk", "FrY", "AMX", "UZ", "Xj", "AqP", "iR",
    "NEx", "Asa", "kc", "fS", "Au2", "m0", "Exa", "CWA", "DgA", "Djq",
    "ex", "A9r", "ApJ", "gI", "Hfr", "A6s", "DiZ", "CYZ", "BDK", "Dkk",
    "BKJ", "BFz", "Dtw", "Ad5", "BYf", "DvF", "BVg", "Ak4", "xU", "BP4",
    "Amg", "zd", "Abf", "AoV", "JQd", "LqE", "Dum", "BZM", "Dzl", "D3T",
    "HuD", "0w", "yO", "AnL", "vN", "D76", "BdG", "DDf", "DIV", "Bfv",
    "DFW", "DKg", "APF", "HD", "Et", "ARw", "Ju", "GE", "DHL", "Bhm",
    "C1t", "LCe", "JcD", "Bgl", "f", "HEU", "HHe", "F_", "HGd", "ASm",
    "YC", "AAA", "ALq", "DS2", "ACp", "HWy", "DUa", "B1H", "Bxp", "DWP",
    "Bwq", "BzA", "AMk", "Ui", "XY", "AOZ", "WX", "Zh", "Byj", "DYK",
    "EDZ", "AK8", "LRb", "DVJ", "Aw0", "o2", "DjB", "BEb", "DeC", "Dhs",
    "AsR", "kP", "FNb", "Aqc", "ia", "dQ", "DkX", "BKy", "BFI", "Dii",
    "BIH", "BDx", "gz", "HfA", "ArH", "eK", "A9A", "Apy", "zW", "AbU",
    "Aoe", "xf", "I-t", "AmT", "Dvu", "Af7", "CKE", "DtD", "BTe", "Ai6",
    "HwF", "2u", "FSO", "AlN", "tL", "D54", "CJ_", "Dz_", "Dwo", "BXO",
    "Dxn", "D1V", "Bfg", "DFF", "C6", "AT5", "L7", "DIG", "ARf", "Jd",
    "GT", "APW", "HU", "Ee", "DJl", "BjM", "C3T", "LAE", "Jad", "BeL",
    "FN", "HGu", "C76", "w", "C87", "AQM", "Fsa", "ACa", "ANQ", "YR",
    "AAP", "HUY", "DWA", "B3h", "AJ3", "DUp", "AE2", "Bxa", "AOK", "WI",
    "Zy", "AMz", "Ux", "XH", "Ckk", "EKJ", "EFz", "CiZ", "DYZ", "DTj",
    "BEs", "DeR", "Dhb", "BGB", "Dgc", "DjS", "Aqr", "ip", "FLB", "AsC",
    "kA", "fq", "Dix", "BIY", "BDi", "DkI", "BKh", "A23", "eZ", "A9P",
    "Aph", "gk", "HfP", "ArY", "xw", "HyL", "AmE", "zF", "AbD", "Aot",
    "DtU", "BTt", "BYD", "Dvd", "BVE", "CKT", "Al_", "0U", "ym", "Ann",
    "vl", "NZF", "JQF", "Lqg", "DuO", "BZo", "DzN", "D3v", "EMk", "B9c",
    "B4S", "EOZ", "AO9", "Brj", "Qh", "AIj", "ADZ", "SY", "HRb", "AFk",
    "BqA", "EAA", "ELq", "Bsp", "DSQ", "LWy", "ILX", "F1H", "Pr", "AGq",
    "_s", "RC", "AXm", "Fhm", "M_", "HCe", "NcD", "On", "Bll", "DLM",
    "LHe", "JgE", "LGd", "DCL", "LE", "ATG", "AYw", "Nt", "AVv", "PYV",
    "EPF", "Cpg", "Bmv", "DBV", "Bbw", "BoG", "LwF", "H3-", "BSO", "D8g",
    "Al-", "CA_", "6t", "HsG", "AgN", "pM", "AhO", "H8N", "Ab6", "z4",
    "Eoe", "BPd", "DpE", "u5", "AfT", "Ef7", "sf", "Ade", "8o", "qW",
    "Ira", "FKy", "nK", "AyH", "aJ", "lz", "BOx", "DoY", "Dbi", "BMI",
    "Dmh", "Epy", "oQ", "AwS", "Azc", "FEb", "Aub", "AxR", "k3", "As1",
    "BNb", "DaB", "BAc", "A88", "D_j", "Coj", "B6s", "EMz", "B9r", "BpJ",
    "SH", "AKJ", "AFz", "Qy", "Ci9", "ADK", "Bsa", "ECa", "V0", "AA3",
    "Y1", "LUY", "INx", "_b", "RR", "AEQ", "EE2", "Pc", "AZM", "BO",
    "G3T", "HAE", "Nad", "MN", "BnL", "F-", "G76", "C8T", "G87", "DAl",
    "Ne", "AVg", "Bk4", "LT", "ATV", "AYf", "DBG", "Bbf", "A_5", "H6",
    "AP4", "Bmg", "D8v", "JUG", "BQo", "Enn", "CNO", "JZF", "4T", "Hqg",
    "Aen", "rm", "Ajo", "Ag_", "BPu", "DpT", "D9l", "BRD", "Dre", "Eot",
    "Adt", "Dt6", "qF", "AfE", "FVE", "sw", "AyY", "FIY", "lk", "HbQ",
    "cj", "nZ", "A93", "Dmy", "Eph", "BOi", "DoH", "j8", "mq", "Aus",
    "AxC", "FGB", "AwB", "Azr", "DaS", "BAr", "BLB", "Dcb", "BCC", "BNs",
    "QJ", "AIH", "ADx", "GkX", "AKy", "AFI", "EMI", "B9A", "Bpy", "D_Y",
    "CoY", "BrH", "AEb", "Fub", "PP", "AGS", "_Q", "Ra", "Bqc", "DQB",
    "T2", "AC1", "DSs", "ENb", "BlN", "DLo", "DA_", "Jgg", "LGF", "DCn",
    "AXO", "FhO", "G1V", "HCG", "Gz_", "OL", "EPd", "CpE", "BmT", "J4",
    "AR6", "Boe", "Lg", "ATe", "AYU", "NV", "AVT", "K66", "6V", "Hse",
    "Agl", "po", "Ahm", "H8l", "Lwd", "JWE", "BSm", "D8E", "CLM", "JXD",
    "Afv", "Dv4", "sD", "AdG", "8M", "qu", "BRw", "DrV", "EoG", "BPF",
    "Dpg", "D9_", "BOZ", "FO9", "DbK", "BMk", "DmJ", "E4S", "BK8", "cY",
    "ni", "Ayj", "ah", "lX", "DcQ", "BCp", "I33", "EqA", "BAA", "BLq",
    "os", "Awq", "AzA", "mB", "A1H", "Axp", "Sj", "AKh", "AFX", "FyY",
    "AIY", "ADi", "D_H", "CoH", "BrY", "U9", "B9P", "Bph", "AGB", "FwB",
    "Rp", "AEs", "DU1", "PA", "BsC", "DSb", "ENs", "Bqr", "DQS", "ELB",
    "Bnn", "DNO", "LJg", "Bl_", "6", "DAN", "AZo", "Bm", "Fg_", "HAg",
    "NaF", "Ml", "DBe", "BbD", "Bot", "EPu", "CpT", "BmE", "NG", "AVE",
    "HBL", "Lv", "ATt", "AYD", "4v", "HqE", "AeL", "rO", "AjM", "Ine",
    "D8T", "JUe", "BQM", "v-", "CNm", "JZd", "AdV", "Ed5", "qd", "Afg",
    "D2-", "sU", "BPW", "x6", "D9N", "BRf", "DrG", "w7", "BMz", "E9r",
    "EpJ", "BOK", "Doj", "DbZ", "CY9", "ay", "lI", "Hbs", "cH", "nx",
    "i1", "Aq3", "JEx", "Esa", "BCa", "BNQ", "mS", "AuQ", "Axa", "ob",
    "A3h", "AzP", "AAf", "Yd", "TT", "ACW", "EC4", "Ve", "Bug", "DUF",
    "P6", "AG5", "_7", "DZG", "UN", "AML", "HYE", "Nve", "HVD", "ABM",
    "DYl", "ByM", "B0u", "LRE", "Jrd", "BvL", "DDA", "CtA", "AY3", "N0",
    "AV2", "Bka", "Hc", "APa", "Bm2", "JR", "ARP", "HFY", "BhJ", "DHk",
    "EUz", "CzZ", "DJZ", "DGj", "HEr", "A", "Iy", "HGC", "Fx", "KH",
    "Abr", "zp", "3H", "Hyz", "xA", "uq", "BVs", "DvR", "EkC", "BTB",
    "Dtc", "DyS", "vZ", "AnX", "Ach", "tk", "Ali", "AaY", "r8", "BZY",
    "BWi", "DxI", "BXh", "BUX", "DgU", "BGt", "BJD", "Ded", "BEE", "BHu",
    "kw", "Asu", "I3U", "iF", "AqD", "HeM", "I6-", "Lbg", "DfO", "BIo",
    "DiN", "Et_", "Hff", "FO_", "jm", "A9f", "el", "E45", "ACF", "FsF",
    "Vt", "AAw", "Yu", "TE", "BwG", "DWf", "DZV", "Buv", "DUW", "DXg",
    "Wn", "AOl", "B67", "U_", "B96", "HYT", "EKm", "CkL", "B2U", "LPe",
    "C-u", "Btl", "DFa", "Cva", "Bkp", "DDP", "Bdq", "BiA", "JC", "ARA",
    "A_q", "Hr", "APp", "HDy", "Bjj", "DJK", "EWZ", "AX8", "DHz", "DEJ",
    "HGR", "Fi", "KY", "Bl9", "P", "Ih", "BP1", "xP", "1h", "Abc",
    "za", "wQ", "Ad0", "Dtr", "DyB", "BVb", "DvC", "s3", "tz", "Alx",
    "AaH", "vK", "AnI", "Acy", "DxX", "BXy", "BUI", "Dzi", "BZH", "BWx",
    "m5", "Au7", "BHd", "DgD", "BGe", "Az6", "iW", "AqU", "A8m", "kf",
    "Asd", "BN7", "CY_", "Di_", "Ddo", "BKO", "Dkn", "E2w", "A9w", "NDg",
    "hM", "BO-", "gL", "GR_", "BuE", "DUd", "DXT", "Bwt", "DWU", "DZe",
    "AAD", "YF", "Tv", "ACu", "DS7", "VG", "DYN", "Byo", "Bt_", "LRg",
    "JrF", "Bvn", "Ul", "AMn", "B45", "NvG", "AO_", "ABo", "HA", "APC",
    "C99", "Jp", "ARr", "A_B", "DDc", "BdB", "Bir", "DFR", "Bfs", "BkC",
    "HEP", "c", "FaY", "HGa", "FZ", "Kj", "Bhh", "DHI", "M9", "BjY",
    "B8", "DGH", "Af2", "Dvp", "Eka", "CDA", "DtA", "q1", "AbP", "zR",
    "wb", "HyX", "xc", "uS", "DzZ", "CJZ", "BWK", "Dxk", "BXJ", "BUz",
    "vx", "Anz", "AcJ", "tI", "AlK", "CA9", "kU", "AsW", "I3w", "id",
    "Aqf", "BL5", "o7", "Aw5", "BJf", "DeF", "BEg", "Ax4", "HfD", "NFe",
    "jO", "A9D", "eN", "NId", "JBd", "LbE", "n-", "BIM", "Dil", "E0u",
    "Bwe", "DWD", "R4", "AE7", "DUu", "DXE", "ACd", "Fsd", "VV", "AAU",
    "YW", "Tg", "EKO", "Ckn", "B2w", "DY_", "Ci_", "AD-", "WL", "AON",
    "IKf", "F9w", "HTF", "HYv", "Ja", "ARc", "A_S", "HP", "APR", "ITz",
    "DFC", "Bfb", "BkR", "L2", "AT0", "Bic", "HGp", "FK", "Fcy", "C82",
    "r", "IJ", "BjH", "DJi", "DGY", "Bhy", "DHX", "DEh", "BTq", "DtP",
    "EiA", "CFa", "Dva", "Ekp", "HyI", "xr", "uB", "AbA", "zC", "ws",
    "Dxz", "Ah8", "BUk", "DzK", "BZj", "Ag9", "tX", "AlZ", "Aaj", "vi",
    "Ank", "BS8", "iu", "Aqw", "A8O", "kD", "AsF", "HgO", "DeW", "BEv",
    "BHF", "Dgf", "BGG", "BJw", "A9U", "e_", "ho", "HfU", "gn", "E67",
    "KPe", "D-u", "DdM", "BKm", "DkL", "E2U", "DnL", "BNm", "A76", "E8T",
    "A87", "BAl", "bn", "Azl", "A3T", "NAE", "Had", "Aum", "BBG", "Dbf",
    "DoV", "CPW", "Epv", "Dmg", "AvF", "nD", "ct", "Atw", "lu", "aE",
    "Akk", "si", "Ef8", "AiZ", "qX", "FTj", "B_j", "Eoj", "D6s", "Am8",
    "D9r", "DpJ", "FWA", "AgA", "Ajq", "9z", "Aep", "Hqy", "Dsa", "CCa",
    "CNQ", "DqP", "BQq", "JUY", "DMX", "Bmy", "Cph", "DOi", "BoH", "Bbx",
    "Az", "AYx", "ATH", "CK", "HBp", "AVy", "AQ0", "I2", "DLB", "Bcb",
    "DCC", "F3", "AUR", "MP", "Fhb", "AWc", "Oa", "BQ", "HQF", "Nqg",
    "FuO", "AJN", "RL", "F3v", "B8v", "LUG", "DQo", "Cnn", "ENO", "LZF",
    "ED6", "ADU", "AIe", "Fvd", "AFd", "AKT", "X5", "BpT", "B9l", "DRD",
    "Bre", "AO6", "Dll", "BLM", "JHe", "LgE", "JGd", "BCL", "FHL", "AxL",
    "A1t", "NCe", "HcD", "AwM", "CPF", "Epg", "Dmv", "Ar5", "j7", "DoG",
    "Atf", "ld", "aT", "AvW", "nU", "FKg", "AiK", "qI", "8q", "Akz",
    "sx", "FVJ", "CMk", "D9c", "D4S", "COZ", "GO9", "Drj", "9k", "Aea",
    "AhQ", "Eg3", "AgP", "HsY", "DqA", "CAA", "Al3", "Dsp", "Ac2", "H33",
    "G8", "BoY", "Bbi", "DMI", "Bmh", "Cpy", "CZ", "HBa", "AVh", "Ak",
    "AYi", "ATY", "Bcs", "DCR", "DNb", "BaB", "DAc", "DLS", "AWr", "Op",
    "FjB", "AUC", "MA", "DH1", "AJ_", "Fz_", "_m", "AHn", "Pl", "F1V",
    "JwF", "LWg", "DSO", "B8g", "ELo", "EA_", "DV7", "AFu", "AKE", "FtD",
    "ADD", "AIt", "DRU", "Brt", "Coe", "DPd", "BpE", "CmT", "bL", "AzN",
    "A3v", "NAg", "HaF", "AuO", "Dnn", "BNO", "JJg", "Dl_", "JEf", "Aq-",
    "Avd", "nf", "cV", "AtU", "lW", "ag", "BBe", "DbD", "g4", "Ap7",
    "h5", "DmE", "B_H", "EoH", "DrY", "CMX", "D9P", "Dph", "AkI", "sK",
    "D23", "Aix", "qz", "8B", "DsC", "BSb", "An1", "y2", "Aa0", "CLB",
    "FWc", "Agc", "AjS", "9X", "AeR", "Ahb", "AX", "AYZ", "ATj", "Ci",
    "HBR", "Bf8", "DMz", "C9r", "CpJ", "DOK", "Boj", "AR9", "AUp", "Mr",
    "Gxa", "AWA", "OC", "Bs", "Baq", "DAP", "LEx", "Csa", "DCa", "DNQ",
    "B8T", "F87", "DQM", "CnL", "ENm", "F76", "HQd", "P_", "Fum", "AJl",
    "Rn", "F3T", "DPW", "Bpv", "B9N", "DRf", "BrG", "CoV", "DT5", "ADw",
    "AIG", "FvF", "AFF", "AKv", "FHn", "Axn", "A1V", "FJ_", "Az_", "Awo",
    "DlN", "BLo", "A54", "Lgg", "I3-", "BCn", "AtD", "lF", "av", "Avu",
    "nw", "cG", "CPd", "EpE", "DmT", "BBt", "DbU", "Doe", "CMI", "D9A",
    "x9", "B_Y", "w8", "DrH", "Aii", "qk", "8S", "AkX", "sZ", "FVh",
    "Dqc", "BQB", "CLS", "DsR", "BSs", "CNb", "9I", "AeC", "Ahs", "Dw0",
    "Agr", "AjB", "Cx", "HBC", "AVJ", "AI", "AYK", "Ct9", "DOZ", "Jfc",
    "BbK", "DMk", "BmJ", "C4S", "AWP", "OR", "Bb", "AUa", "Mc", "EX2",
    "AS2", "K0", "LGX", "CqA", "DAA", "9", "Jwd", "LWE", "DSm", "B8E",
    "ELM", "LXD", "HSD", "Nse", "_O", "AHL", "PN", "F1t", "Z7", "AB5",
    "CoG", "DPF", "Bpg", "AM4", "EF4", "AFW", "AKg", "Ftf", "ADf", "AIV",
    "A6h", "jb", "gR", "ApQ", "hS", "FMa", "BFa", "Eva", "Dkp", "At3",
    "l1", "DiA", "fH", "Hgs", "Asz", "dy", "A8s", "AqK", "Djj", "BJK",
    "CWZ", "Exz", "BHz", "BEJ", "DwG", "BWf", "Aj5", "Duv", "Ae4", "BXg",
    "D7-", "Acg", "AnW", "yT", "AaV", "Alf", "CKm", "s-", "D2U", "JPe",
    "E-u", "Dtl", "AoM", "wO", "D67", "HtE", "1v", "xN", "AQt", "Iv",
    "N", "ASE", "KG", "Fw", "Beu", "DET", "DHd", "BgD", "DGe", "DJU",
    "G9w", "HDg", "APn", "Gm", "A_o", "AR_", "EY_", "Bi_", "Bdo", "DKO",
    "Bkn", "C2w", "DTS", "Btr", "ByB", "DVb", "BvC", "CkR", "Xq", "HYJ",
    "AMC", "FrB", "ABB", "AOr", "BxX", "P9", "DUI", "Bzi", "DZH", "_8",
    "ALY", "F8Q", "Yk", "ANh", "Vj", "FsX", "A4H", "hB", "er", "Arq",
    "js", "gC", "BDA", "EtA", "DiP", "BFp", "DfQ", "Dka", "dh", "A8b",
    "AqZ", "fY", "BN8", "Ask", "DhJ", "BHk", "Au8", "EzZ", "Az9", "BGj",
    "Dug", "BUF", "BXv", "DwV", "BWw", "BZG", "yE", "AaG", "Alw", "Ds4",
    "Acv", "AnF", "BYl", "DyM", "D0u", "JRE", "Lrd", "DvL", "Amm", "uo",
    "x_", "Hve", "3V", "zn", "AST", "KV", "Ff", "AQe", "Ig", "_",
    "AW6", "O4", "DJD", "Bed", "DEE", "DHu", "Nff", "HFG", "ARN", "EM",
    "HDv", "C45", "LBF", "Jbg", "BfO", "DIo", "AY-", "Ct_", "DVs", "AF1",
    "CkC", "DTB", "Btc", "AI0", "ZQ", "ABS", "AOc", "Fpb", "IIz", "AMR",
    "Bzx", "DZY", "DWi", "BxI", "DXh", "DUX", "ANy", "GnX", "FsI", "ALH",
    "TJ", "Yz", "BFC", "Dfb", "DkR", "BDr", "DdS", "Dic", "ArB", "FBB",
    "gp", "Aps", "hq", "eA", "DjH", "BJi", "A32", "Dhy", "BHX", "BEh",
    "fj", "HgQ", "AsX", "E82", "A8Q", "Aqi", "FSE", "AcE", "Anu", "yv",
    "Aat", "AlD", "Dwe", "BWD", "BZt", "DuT", "BUu", "BXE", "Aoo", "wm",
    "FR_", "Htg", "1T", "xl", "CKO", "Ekn", "D2w", "A-4", "Ei_", "DtN",
    "AU4", "M6", "DHF", "Bgf", "DGG", "B7", "AQV", "IT", "l", "ASg",
    "Ke", "FU", "MPe", "B-u", "BdM", "C-", "BkL", "C2U", "G9U", "C96",
    "APL", "GO", "A_M", "C67", "XS", "Bp2", "AMa", "Zb", "IKx", "AOP",
    "DTq", "AD3", "CiA", "EFa", "Bva", "AK2", "Cl9", "Ty", "YI", "ANJ",
    "VH", "DS8", "Bxz", "EHz", "DUk", "BzK", "DZj", "DWZ", "BDc", "DdB",
    "Dir", "Av1", "n3", "DkC", "Apb", "GPC", "eP", "ArS", "jQ", "ga",
    "Dhh", "BHI", "BEy", "DjY", "BJx", "BGH", "dJ", "Heq", "Aqx", "FNy",
    "Iwa", "AsI", "yg", "Aae", "AlU", "Ec7", "AcT", "And", "DuE", "BUd",
    "Ah7", "Dwt", "Ag6", "BZe", "AmO", "uM", "D45", "HvG", "3t", "zL",
    "Ai-", "Dyo", "Dt_", "H6-", "LrF", "Dvn", "Bgw", "DGV", "DJf", "BeF",
    "DEg", "DHW", "ASv", "Kt", "FD", "AQG", "IE", "Du", "LBd", "JbE",
    "Bfm", "DIM", "Bil", "C0u", "NfD", "HFe", "ARl", "Eo", "HDT", "HId",
    "Zs", "ABq", "AOA", "XB", "HYy", "AMp", "DVQ", "Bvp", "Cka", "EDA",
    "BtA", "Byq", "HWb", "VY", "Fsk", "ALj", "Th", "YX", "AJ9", "EJZ",
    "DWK", "Bxk", "DXJ", "DUz", "Eoo", "B_o", "BR_", "D9w", "JTF", "BPn",
    "sl", "Akn", "IoF", "5U", "Ai_", "Ado", "BSE", "Dsd", "Enu", "BQt",
    "DqU", "0-", "AgD", "FWD", "rv", "Aeu", "Du7", "pG", "Azi", "bk",
    "E32", "AxX", "FHX", "mj", "BNh", "DnI", "k9", "A82", "Dlx", "DaH",
    "nA", "AvC", "HbJ", "lp", "Atr", "AyB", "Dbc", "BBB", "BOr", "Eps",
    "CPR", "BMC", "Gl9", "B8s", "BqK", "ENJ", "Cnk", "Bsz", "Px", "AHz",
    "AEJ", "RI", "AJK", "Cg9", "BpQ", "X0", "EMa", "B6h", "DRA", "W1",
    "ADP", "ED3", "Qb", "AFa", "Fva", "SS", "IPe", "F-u", "LO", "HBu",
    "CN", "G2U", "C9U", "G96", "H-", "BoM", "DOl", "G67", "MU", "AUW",
    "AXg", "Od", "AWf", "AZV", "I7", "AQ5", "Blf", "DCF", "Bcg", "BnW",
    "D9f", "CMn", "JYg", "LvG", "CO_", "Ab-", "qL", "AiN", "H9O", "7u",
    "HrF", "AfO", "BQe", "DqD", "t4", "Ac7", "Dsu", "End", "Aed", "9n",
    "pV", "AgU", "Eg6", "rg", "AxI", "FHI", "FEy", "Azx", "bz", "oJ",
    "BLH", "Dli", "DaY", "BNy", "DnX", "Dch", "la", "Atc", "AyS", "nP",
    "AvR", "Irz", "Epb", "CPC", "A99", "j2", "Ar0", "BOc", "LWb", "AN8",
    "Bsk", "ELj", "B8b", "AA9", "RX", "AJZ", "AGj", "Pi", "AHk", "Bu8",
    "Brq", "DRP", "EOA", "B4H", "DPa", "EMp", "AFp", "DV2", "SB", "ADA",
    "FtA", "Qs", "HBd", "C_", "No", "AYl", "An", "G0u", "JfD", "LFe",
    "DBM", "Bmm", "DML", "LId", "Ou", "AWw", "AZG", "MD", "AUF", "AXv",
    "DCW", "Bcv", "BnF", "DAf", "BaG", "Blw", "sN", "AkL", "Iod", "5w",
    "A-u", "AdM", "EoM", "B_M", "KKD", "D9U", "JTd", "BPL", "Agf", "FWf",
    "rT", "AeW", "Ee4", "pe", "BSg", "DsF", "v6", "Aa5", "y7", "D8O",
    "BNJ", "Dnk", "Esz", "JEc", "DlZ", "Daj", "AzK", "bI", "oy", "Axz",
    "Dh8", "mH", "DbA", "CRA", "BOP", "h0", "Ap2", "BMa", "nc", "Ava",
    "BK2", "lR", "AtP", "Ipx", "PZ", "AHX", "AEh", "Rk", "AJi", "AGY",
    "T8", "B8Q", "Bqi", "ENh", "CnI", "BsX", "ADr", "DT0", "FyB", "AFC",
    "FvC", "Sq", "Bps", "DPR", "EMC", "BrB", "DRc", "D_S", "C9w", "LDg",
    "EPn", "Boo", "DON", "ER_", "AY_", "Fi_", "Lm", "HBW", "Cl", "G2w",
    "DAU", "Bat", "BlD", "DCd", "BcE", "Bnu", "Mw", "AUu", "AXE", "OF",
    "AWD", "AZt", "qn", "Ail", "H9m", "s_", "Hrd", "Afm", "D9D", "CML",
    "JYE", "Lve", "JVD", "BRl", "AeF", "9L", "pt", "Agw", "Dw5", "rE",
    "BQG", "Dqf", "Elw", "BSv", "DsW", "EnF", "BLj", "DlK", "-3", "JGC",
    "Dnz", "DcJ", "Axk", "FHk", "mY", "AzZ", "bX", "oh", "E4H", "CPa",
    "BMp", "DbP", "BBq", "BOA", "lC", "AtA", "Ayq", "nr", "Avp", "Hby",
    "Rz", "AJx", "AGH", "PK", "AHI", "AEy", "ENy", "CnX", "BsI", "ELH",
    "Cli", "Bqx", "AFR", "EF1", "GkC", "ADc", "Ftc", "QQ", "AB0", "Z2",
    "D_B", "Bpb", "DPC", "U3", "Jff", "DO_", "DBo", "BmO", "DMn", "G45",
    "HBF", "Nbg", "NM", "AYN", "AL", "Gt_", "K5", "AS7", "Bnd", "DAD",
    "Bae", "BlU", "OW", "AWU", "AZe", "Mf", "AUd", "AXT", "Acb", "FSb",
    "vP", "AaS", "yQ", "ta", "BWc", "DwB", "r2", "Ae1", "Dus", "DxC",
    "wJ", "AoH", "Abx", "1s", "Amy", "Hyp", "EkI", "CKh", "BVy", "DyY",
    "BYx", "BTH", "DfE", "BFd", "BKT", "l4", "At6", "BIe", "jg", "Are",
    "BO6", "hV", "ApT", "A9l", "Az-", "Djo", "Dg_", "JAg", "LaF", "Den",
    "Hgv", "fM", "NJg", "A8v", "NEf", "iL", "HYO", "Xt", "UD", "ABG",
    "ZE", "Wu", "Btw", "DTV", "DYf", "BvF", "DVg", "EKv", "F8T", "B87",
    "AAl", "Vo", "ANm", "B76", "LQd", "JqE", "Bum", "DZM", "Bzl", "B3T",
    "DEQ", "Bep", "Cxa", "EWA", "BgA", "Bjq", "Is", "AQq", "HEx", "KB",
    "HJy", "HGI", "AY9", "EYZ", "DDK", "Bkk", "DKJ", "DFz", "Bm8", "EY",
    "Hi", "A_j", "Gh", "JX", "AaB", "FQB", "tp", "Acs", "Ds1", "vA",
    "BUC", "Dub", "DxR", "BWr", "DwS", "Dzc", "uj", "Amh", "Hya", "3S",
    "AoY", "Abi", "DyH", "BYi", "BTY", "s9", "CKy", "BVh", "Dde", "BDD",
    "BIt", "DfT", "BFu", "BKE", "hG", "ApE", "HdL", "jv", "Art", "I2T",
    "BHn", "DhO", "E1V", "BJ_", "Ez_", "DgN", "A8g", "dm", "-U", "Hgg",
    "M3-", "kl", "ABV", "ZT", "Wd", "K-5", "Xe", "UU", "AF4", "DVv",
    "EKg", "Btf", "DTG", "Q7", "Nwd", "HWE", "ACL", "TO", "ALM", "HXD",
    "LSD", "Jse", "BwM", "P-", "BxL", "B1t", "O1", "AW3", "CzA", "EUa",
    "Bea", "AX2", "KS", "ASQ", "HGX", "Ib", "HHY", "Bl3", "Bkz", "LBC",
    "DFk", "BiK", "DIj", "DDZ", "HFB", "Gy", "JI", "HDs", "EH", "Hx",
    "BWA", "D3h", "DzP", "BUp", "DuQ", "Dxa", "Hzy", "GCa", "vr", "Aaq",
    "ys", "tC", "Ekk", "CKJ", "Af8", "EiZ", "Ai9", "BTj", "wh", "Aoj",
    "AbZ", "uY", "Htb", "HyR", "jE", "ArG", "C_5", "ht", "Apv", "A9N",
    "Dfg", "A2-", "BKv", "DdV", "BDw", "BIG", "HgT", "fo", "k_", "A8T",
    "E87", "in", "BJl", "DjM", "E3T", "JAE", "Lad", "DeL", "AD6", "DTt",
    "DYD", "Bvd", "DVE", "S5", "Bp7", "XV", "Uf", "ABe", "Zg", "WW",
    "LQF", "Jqg", "BuO", "DZo", "AJ-", "B3v", "F8v", "HUG", "AAN", "VM",
    "ANO", "HZF", "IQ", "AQS", "HEZ", "Fcb", "ASb", "Bn1", "M3", "AU1",
    "Bhb", "DGB", "Bgc", "AZ0", "C93", "Fmy", "HK", "A_H", "GJ", "Jz",
    "Bix", "DIY", "DDi", "BkI", "DKh", "DFX", "BUa", "D1H", "p0", "Ag3",
    "Dwq", "DzA", "HxY", "yb", "tR", "AcQ", "Ec2", "vc", "Dyj", "BYK",
    "CDZ", "Ekz", "JRb", "BVJ", "uH", "AmJ", "HyC", "wy", "CO9", "AbK",
    "he", "Apg", "A9_", "jT", "ArV", "Hf_", "DdG", "BDf", "Ay5", "n6",
    "Av4", "BKg", "A8E", "dO", "-w", "HgE", "NGd", "kN", "BHL", "Dhm",
    "E1t", "JCe", "LcD", "Dgl", "Bvu", "DVT", "EKE", "BtD", "DTe", "DYU",
    "ABt", "Zv", "WF", "PBU", "XG", "Uw", "EJ_", "Bz_", "Bwo", "DXO",
    "Bxn", "B1V", "NwF", "HWg", "ACn", "Tm", "ALo", "AA_", "Kq", "ASs",
    "HGz", "FaB", "AQB", "C88", "DGS", "Bgr", "BjB", "DEb", "BeC", "Bhs",
    "A_Y", "FoY", "Jk", "HDQ", "Ej", "HZ", "BkX", "C9", "DFI", "Bii",
    "DIH", "L8",
};

unsigned ck_rs_tag_slot(int v)
{
    return (unsigned)((long)v * CK_REDIS_SLOTS / CK_TAG_NEW_COUNT);
}

size_t ck_rs_tag_braces(const char *t, char out[CK_RS_BRACES_MAX + 1])
{
    int i = ck_tag_index(t);

    if (i < 0) {
        out[0] = '\0';
        return 0;
    }
    if (i < CK_TAG_OLD_COUNT) {
        out[0] = t[0];
        out[1] = t[1];
        out[2] = '\0';
        return 2;
    }
    memcpy(out, braces[i - CK_TAG_OLD_COUNT], CK_RS_BRACES_MAX + 1);
    return strlen(out);
}

static int lower_hex(char c)
{
    return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'f');
}

int ck_rs_tag_from_braces(const char *s, size_t len, char tag[3])
{
    unsigned slot;
    long v;

    if (len == 2 && lower_hex(s[0]) && lower_hex(s[1])) {
        tag[0] = s[0];
        tag[1] = s[1];
        tag[2] = '\0';
        return ck_tag_index(tag) >= 0 ? 0 : -1;
    }
    if (len < 1 || len > CK_RS_BRACES_MAX)
        return -1;
    /* The slots are evenly spaced more than one apart: the slot names v. */
    slot = ck_redis_crc16(s, len) % CK_REDIS_SLOTS;
    v = ((long)slot * CK_TAG_NEW_COUNT + CK_REDIS_SLOTS - 1) / CK_REDIS_SLOTS;
    if (v >= CK_TAG_NEW_COUNT || ck_rs_tag_slot((int)v) != slot ||
        strlen(braces[v]) != len || memcmp(braces[v], s, len) != 0)
        return -1;
    ck_tag_name(CK_TAG_OLD_COUNT + (int)v, tag);
    return 0;
}

int ck_rs_session_key_parse(const char *prefix, const char *k, size_t len, ck_skey *out)
{
    size_t pl = strlen(prefix), bl;
    const char *b, *close;

    if (len < pl + 5 + CK_KEY_LEN || memcmp(k, prefix, pl) != 0 ||
        memcmp(k + pl, "s:{", 3) != 0)
        return -1;
    b = k + pl + 3;
    bl = len - pl - 4 - CK_KEY_LEN;         /* what lies between the braces */
    close = b + bl;
    if (*close != '}' || memchr(b, '}', bl) || ck_rs_tag_from_braces(b, bl, out->tag) != 0)
        return -1;
    memcpy(out->hash, close + 1, CK_KEY_LEN);
    return 0;
}
