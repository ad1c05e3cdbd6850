// One stub per OpenSSL function of openssl_symbols.h, so that libssl and libcrypto are loaded
// on the first call of one of them (when TLS, S/MIME or a digest is used) and not by the
// dynamic loader at every start: their loading and relocation were about 40% of the
// instructions of `sealmail -bp` (see compat/bench/startup.sh).
//
// A stub jumps through its slot; an empty slot goes to sealmail_openssl_bind, which keeps the
// caller's argument registers, has openssl_loader.c fill the slot (dlsym), and jumps there.
// The stub does not know the function's signature and needs not: the arguments, the return
// address and the stack are the caller's, untouched. Each stub, slot and name has its own
// section, so --gc-sections keeps only those a program calls. The stubs are hidden: they never
// interpose on libcrypto's own calls.
//
// x86-64 SysV only (Package.swift links libssl and libcrypto directly elsewhere).
#if defined(__x86_64__) && defined(__linux__) && defined(SEALMAIL_LAZY_OPENSSL)

        .macro SEALMAIL_STUB name
        .section .text.sealmail_openssl.\name,"ax",@progbits
        .globl \name
        .hidden \name
        .type \name, @function
        .p2align 4
\name:
        movq sealmail_slot_\name(%rip), %r11
        testq %r11, %r11
        jz 1f
        jmpq *%r11
1:      leaq sealmail_slot_\name(%rip), %r11
        leaq sealmail_name_\name(%rip), %r10
        jmp sealmail_openssl_bind
        .size \name, . - \name

        .section .bss.sealmail_openssl.\name,"aw",@nobits
        .p2align 3
sealmail_slot_\name:
        .zero 8

        .section .rodata.sealmail_openssl.\name,"a",@progbits
sealmail_name_\name:
        .asciz "\name"
        .endm

#define SEALMAIL_OPENSSL(name) SEALMAIL_STUB name
#include "openssl_symbols.h"
#undef SEALMAIL_OPENSSL

// r11 = the slot, r10 = the function's name. Entered by a jump from a stub, so the stack is as
// at the function's entry (rsp = 8 mod 16); everything a call may carry in registers is kept:
// rdi, rsi, rdx, rcx, r8, r9, rax (the vector count of a variadic call) and xmm0-7.
        .text
        .p2align 4
        .type sealmail_openssl_bind, @function
sealmail_openssl_bind:
        pushq %rbp
        movq %rsp, %rbp
        pushq %rdi
        pushq %rsi
        pushq %rdx
        pushq %rcx
        pushq %r8
        pushq %r9
        pushq %rax
        subq $136, %rsp
        movdqu %xmm0, 0(%rsp)
        movdqu %xmm1, 16(%rsp)
        movdqu %xmm2, 32(%rsp)
        movdqu %xmm3, 48(%rsp)
        movdqu %xmm4, 64(%rsp)
        movdqu %xmm5, 80(%rsp)
        movdqu %xmm6, 96(%rsp)
        movdqu %xmm7, 112(%rsp)
        movq %r11, %rdi
        movq %r10, %rsi
        call sealmail_openssl_resolve
        movq %rax, %r11
        movdqu 0(%rsp), %xmm0
        movdqu 16(%rsp), %xmm1
        movdqu 32(%rsp), %xmm2
        movdqu 48(%rsp), %xmm3
        movdqu 64(%rsp), %xmm4
        movdqu 80(%rsp), %xmm5
        movdqu 96(%rsp), %xmm6
        movdqu 112(%rsp), %xmm7
        addq $136, %rsp
        popq %rax
        popq %r9
        popq %r8
        popq %rcx
        popq %rdx
        popq %rsi
        popq %rdi
        popq %rbp
        jmpq *%r11
        .size sealmail_openssl_bind, . - sealmail_openssl_bind

#endif

#if defined(__linux__) && defined(__ELF__)
        .section .note.GNU-stack,"",@progbits
#endif
