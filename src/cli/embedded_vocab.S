    .section .rodata
    .balign 64
    .global autan_embedded_vocab_begin
autan_embedded_vocab_begin:
    .incbin AUTAN_VOCAB_PATH
    .global autan_embedded_vocab_end
autan_embedded_vocab_end:
    .section .note.GNU-stack,"",@progbits
