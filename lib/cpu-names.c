/* One name per CPU feature (see cpu-names.h). */
#include "lib/cpu-names.h"

#include <string.h>

/* Every x86 feature of libvirt's cpu_map whose name is not the kernel's
 * (libvirt 9.0), apart from the "vmx-*" family (VMX capabilities, which
 * /proc/cpuinfo lists on a line of their own).  Kernel names from
 * arch/x86/include/asm/cpufeatures.h; where the kernel does not show a
 * feature, the kernel-style spelling ('_' for '-') stands in. */
static const struct {
    const char *libvirt;
    const char *kernel;
} names[] = {
    { "ds", "dts" },
    { "pclmuldq", "pclmulqdq" },
    { "sse4.1", "sse4_1" },
    { "sse4.2", "sse4_2" },
    { "tsc-deadline", "tsc_deadline_timer" },
    { "cmt", "cqm" },
    { "mbm_total", "cqm_mbm_total" },
    { "mbm_local", "cqm_mbm_local" },
    { "intel-pt", "intel_pt" },
    { "intel-pt-lip", "intel_pt_lip" },
    { "sha-ni", "sha_ni" },
    { "avx512vbmi2", "avx512_vbmi2" },
    { "avx512vnni", "avx512_vnni" },
    { "avx512bitalg", "avx512_bitalg" },
    { "avx512-vpopcntdq", "avx512_vpopcntdq" },
    { "avx512-4vnniw", "avx512_4vnniw" },
    { "avx512-4fmaps", "avx512_4fmaps" },
    { "avx512-vp2intersect", "avx512_vp2intersect" },
    { "avx512-fp16", "avx512_fp16" },
    { "avx512-bf16", "avx512_bf16" },
    { "avx-vnni", "avx_vnni" },
    { "amx-bf16", "amx_bf16" },
    { "amx-tile", "amx_tile" },
    { "amx-int8", "amx_int8" },
    { "bus-lock-detect", "bus_lock_detect" },
    { "split-lock-detect", "split_lock_detect" },
    { "md-clear", "md_clear" },
    { "tsx-ldtrk", "tsxldtrk" },
    { "arch-lbr", "arch_lbr" },
    { "spec-ctrl", "spec_ctrl" },
    { "arch-capabilities", "arch_capabilities" },
    { "core-capability", "core_capability" },
    { "sgxlc", "sgx_lc" },
    { "sgx-exinfo", "sgx_exinfo" },
    { "sgx-debug", "sgx_debug" },
    { "sgx-mode64", "sgx_mode64" },
    { "sgx-provisionkey", "sgx_provisionkey" },
    { "sgx-tokenkey", "sgx_tokenkey" },
    { "sgx-kss", "sgx_kss" },
    { "cr8legacy", "cr8_legacy" },
    { "amd-stibp", "amd_stibp" },
    { "amd-ssbd", "amd_ssbd" },
    { "virt-ssbd", "virt_ssbd" },
    { "amd-no-ssb", "amd_no_ssb" },
    { "svm-lock", "svm_lock" },
    { "nrip-save", "nrip_save" },
    { "tsc-scale", "tsc_scale" },
    { "vmcb-clean", "vmcb_clean" },
    { "pause-filter", "pausefilter" },
    { "v-vmsave-vmload", "v_vmsave_vmload" },
    { "svme-addr-chk", "svme_addr_chk" },
    { "rdctl-no", "rdctl_no" },
    { "ibrs-all", "ibrs_all" },
    { "skip-l1dfl-vmentry", "skip_l1dfl_vmentry" },
    { "ssb-no", "ssb_no" },
    { "mds-no", "mds_no" },
    { "pschange-mc-no", "pschange_mc_no" },
    { "tsx-ctrl", "tsx_ctrl" },
    { "taa-no", "taa_no" },
};

bool
cpu_name_canonical(const char *name, char *out, size_t size)
{
    size_t len = strlen(name);

    if (size) {
        out[0] = '\0';
    }
    if (!len || len > CPU_NAME_MAX || len >= size
        || strspn(name, "abcdefghijklmnopqrstuvwxyz0123456789_.-") != len) {
        return false;
    }
    for (size_t i = 0; i < sizeof names / sizeof *names; i++) {
        if (!strcmp(name, names[i].libvirt)) {
            if (strlen(names[i].kernel) >= size) {
                return false;
            }
            strcpy(out, names[i].kernel);
            return true;
        }
    }
    /* The kernel never uses '-': "vmx-ept" is "vmx_ept". */
    for (size_t i = 0; i <= len; i++) {
        out[i] = name[i] == '-' ? '_' : name[i];
    }
    return true;
}

const char *
cpu_name_libvirt(const char *name, char *buf, size_t size)
{
    for (size_t i = 0; i < sizeof names / sizeof *names; i++) {
        if (!strcmp(name, names[i].kernel)) {
            return names[i].libvirt;
        }
    }
    size_t len = strlen(name);
    if (!strncmp(name, "vmx_", 4) && len < size) {
        for (size_t i = 0; i <= len; i++) {
            buf[i] = name[i] == '_' ? '-' : name[i];
        }
        return buf;
    }
    return name;
}
