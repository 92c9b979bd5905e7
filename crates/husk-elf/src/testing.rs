//! Synthetic ELF files for tests (this crate's and other crates' with [`crate::FakeFs`]).
//!
//! [`ElfBuilder`] emits only what the loader reads: the ELF header, PT_INTERP, one
//! PT_LOAD covering the file (at a non-zero virtual address, so DT_STRTAB must really be
//! mapped), PT_DYNAMIC with DT_NEEDED/DT_RPATH/DT_RUNPATH/DT_SONAME/DT_FLAGS_1/DT_STRTAB/
//! DT_STRSZ, and no section headers at all.

/// Builder for a minimal loader-view ELF file.
#[derive(Debug, Clone)]
pub struct ElfBuilder {
    class64: bool,
    little_endian: bool,
    machine: u16,
    e_type: u16,
    interp: Option<String>,
    needed: Vec<String>,
    runpath: Option<String>,
    rpath: Option<String>,
    soname: Option<String>,
    flags_1: Option<u64>,
    dynamic: bool,
    strtab_outside_load: bool,
}

const LOAD_VADDR: u64 = 0x40_0000;

impl ElfBuilder {
    /// A 64-bit little-endian x86-64 shared object with a dynamic segment.
    #[must_use]
    pub fn x86_64() -> Self {
        ElfBuilder {
            class64: true,
            little_endian: true,
            machine: 62,
            e_type: 3,
            interp: None,
            needed: Vec::new(),
            runpath: None,
            rpath: None,
            soname: None,
            flags_1: None,
            dynamic: true,
            strtab_outside_load: false,
        }
    }

    /// A 64-bit little-endian AArch64 shared object.
    #[must_use]
    pub fn aarch64() -> Self {
        ElfBuilder {
            machine: 183,
            ..Self::x86_64()
        }
    }

    /// A 32-bit little-endian i386 shared object.
    #[must_use]
    pub fn i386() -> Self {
        ElfBuilder {
            class64: false,
            machine: 3,
            ..Self::x86_64()
        }
    }

    /// A 64-bit big-endian s390x shared object.
    #[must_use]
    pub fn s390x() -> Self {
        ElfBuilder {
            little_endian: false,
            machine: 22,
            ..Self::x86_64()
        }
    }

    /// Sets `e_type` (2 = ET_EXEC, 3 = ET_DYN).
    #[must_use]
    pub fn e_type(mut self, e_type: u16) -> Self {
        self.e_type = e_type;
        self
    }

    /// Adds PT_INTERP.
    #[must_use]
    pub fn interp(mut self, path: &str) -> Self {
        self.interp = Some(path.to_owned());
        self
    }

    /// Adds a DT_NEEDED.
    #[must_use]
    pub fn needed(mut self, name: &str) -> Self {
        self.needed.push(name.to_owned());
        self
    }

    /// Sets DT_RUNPATH (colon-separated).
    #[must_use]
    pub fn runpath(mut self, path: &str) -> Self {
        self.runpath = Some(path.to_owned());
        self
    }

    /// Sets DT_RPATH (colon-separated).
    #[must_use]
    pub fn rpath(mut self, path: &str) -> Self {
        self.rpath = Some(path.to_owned());
        self
    }

    /// Sets DT_SONAME.
    #[must_use]
    pub fn soname(mut self, name: &str) -> Self {
        self.soname = Some(name.to_owned());
        self
    }

    /// Sets DT_FLAGS_1 (e.g. 0x800 = DF_1_NODEFLIB).
    #[must_use]
    pub fn flags_1(mut self, flags: u64) -> Self {
        self.flags_1 = Some(flags);
        self
    }

    /// Omits PT_DYNAMIC (a static executable).
    #[must_use]
    pub fn no_dynamic(mut self) -> Self {
        self.dynamic = false;
        self
    }

    /// Points DT_STRTAB at an address no PT_LOAD maps (hostile input).
    #[must_use]
    pub fn strtab_outside_load(mut self) -> Self {
        self.strtab_outside_load = true;
        self
    }

    /// The file bytes.
    #[must_use]
    pub fn build(&self) -> Vec<u8> {
        let (ehsize, phentsize, dynsize) = if self.class64 {
            (64usize, 56usize, 16usize)
        } else {
            (52, 32, 8)
        };
        let phnum = 1 + usize::from(self.interp.is_some()) + usize::from(self.dynamic);
        let interp_off = ehsize + phnum * phentsize;
        let interp_bytes: Vec<u8> = self
            .interp
            .as_ref()
            .map(|i| [i.as_bytes(), b"\0"].concat())
            .unwrap_or_default();
        let strtab_off = interp_off + interp_bytes.len();
        let (strtab, mut dyns) = self.dynamic_strings();
        let strtab_addr = if self.strtab_outside_load {
            0x7777_0000
        } else {
            LOAD_VADDR + strtab_off as u64
        };
        dyns.push((5, strtab_addr));
        dyns.push((10, strtab.len() as u64));
        dyns.push((0, 0));
        let dyn_off = (strtab_off + strtab.len()).next_multiple_of(8);
        let total = if self.dynamic {
            dyn_off + dyns.len() * dynsize
        } else {
            dyn_off
        };

        let mut w = W {
            buf: vec![0u8; total],
            le: self.little_endian,
            c64: self.class64,
        };
        self.write_header(&mut w, ehsize, phentsize, phnum);
        let mut ph = ehsize;
        if self.interp.is_some() {
            w.phdr(ph, 3, interp_off as u64, interp_bytes.len() as u64);
            ph += phentsize;
        }
        w.phdr(ph, 1, 0, total as u64);
        ph += phentsize;
        if self.dynamic {
            w.phdr(ph, 2, dyn_off as u64, (dyns.len() * dynsize) as u64);
        }
        w.bytes(interp_off, &interp_bytes);
        w.bytes(strtab_off, &strtab);
        if self.dynamic {
            for (i, (tag, val)) in dyns.iter().enumerate() {
                let at = dyn_off + i * dynsize;
                w.word(at, *tag);
                w.word(at + dynsize / 2, *val);
            }
        }
        w.buf
    }
    /// The dynamic string table and the DT_NEEDED/SONAME/RPATH/RUNPATH/FLAGS_1 entries
    /// that point into it (DT_STRTAB, DT_STRSZ and DT_NULL are added by the caller).
    fn dynamic_strings(&self) -> (Vec<u8>, Vec<(u64, u64)>) {
        let mut strtab = vec![0u8];
        let mut dyns: Vec<(u64, u64)> = Vec::new();
        let mut add = |tag: u64, s: &str| {
            dyns.push((tag, strtab.len() as u64));
            strtab.extend_from_slice(s.as_bytes());
            strtab.push(0);
        };
        for n in &self.needed {
            add(1, n);
        }
        if let Some(s) = &self.soname {
            add(14, s);
        }
        if let Some(r) = &self.rpath {
            add(15, r);
        }
        if let Some(r) = &self.runpath {
            add(29, r);
        }
        if let Some(f) = self.flags_1 {
            dyns.push((0x6fff_fffb, f));
        }
        (strtab, dyns)
    }

    /// e_ident and the header fields that locate the program headers.
    fn write_header(&self, w: &mut W, ehsize: usize, phentsize: usize, phnum: usize) {
        // e_ident
        w.bytes(0, b"\x7fELF");
        w.buf[4] = if self.class64 { 2 } else { 1 };
        w.buf[5] = if self.little_endian { 1 } else { 2 };
        w.buf[6] = 1;
        w.u16(16, self.e_type);
        w.u16(18, self.machine);
        w.u32(20, 1);
        if self.class64 {
            w.u64(32, ehsize as u64); // e_phoff
            w.u16(52, ehsize as u16);
            w.u16(54, phentsize as u16);
            w.u16(56, phnum as u16);
        } else {
            w.u32(28, ehsize as u32);
            w.u16(40, ehsize as u16);
            w.u16(42, phentsize as u16);
            w.u16(44, phnum as u16);
        }
    }
}

struct W {
    buf: Vec<u8>,
    le: bool,
    c64: bool,
}

impl W {
    fn bytes(&mut self, at: usize, b: &[u8]) {
        self.buf[at..at + b.len()].copy_from_slice(b);
    }
    fn u16(&mut self, at: usize, v: u16) {
        let b = if self.le {
            v.to_le_bytes()
        } else {
            v.to_be_bytes()
        };
        self.bytes(at, &b);
    }
    fn u32(&mut self, at: usize, v: u32) {
        let b = if self.le {
            v.to_le_bytes()
        } else {
            v.to_be_bytes()
        };
        self.bytes(at, &b);
    }
    fn u64(&mut self, at: usize, v: u64) {
        let b = if self.le {
            v.to_le_bytes()
        } else {
            v.to_be_bytes()
        };
        self.bytes(at, &b);
    }
    /// An address-sized word (`Elf*_Addr`, `Elf*_Sxword`/`Sword`).
    fn word(&mut self, at: usize, v: u64) {
        if self.c64 {
            self.u64(at, v);
        } else {
            self.u32(at, v as u32);
        }
    }
    fn phdr(&mut self, at: usize, p_type: u32, offset: u64, size: u64) {
        let vaddr = LOAD_VADDR + offset;
        if self.c64 {
            self.u32(at, p_type);
            self.u32(at + 4, 4); // p_flags
            self.u64(at + 8, offset);
            self.u64(at + 16, vaddr);
            self.u64(at + 24, vaddr);
            self.u64(at + 32, size);
            self.u64(at + 40, size);
            self.u64(at + 48, 8);
        } else {
            self.u32(at, p_type);
            self.u32(at + 4, offset as u32);
            self.u32(at + 8, vaddr as u32);
            self.u32(at + 12, vaddr as u32);
            self.u32(at + 16, size as u32);
            self.u32(at + 20, size as u32);
            self.u32(at + 24, 4);
            self.u32(at + 28, 8);
        }
    }
}
