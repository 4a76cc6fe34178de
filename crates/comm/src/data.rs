//! Payload types: plain-data elements ([`Data`]), arithmetic ([`Arith`]) and reduction ops ([`Op`]).

use std::sync::Arc;

/// The primitive an element maps to, so that an MPI backend can use MPI's own datatypes and ops.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum DataKind {
    /// `u8`
    U8,
    /// `i8`
    I8,
    /// `u16`
    U16,
    /// `i16`
    I16,
    /// `u32`
    U32,
    /// `i32`
    I32,
    /// `u64`
    U64,
    /// `i64`
    I64,
    /// `f32`
    F32,
    /// `f64`
    F64,
    /// Any other plain-data type: moved as bytes.
    Opaque,
}

impl DataKind {
    /// The primitive's size in bytes (`None` for [`DataKind::Opaque`]).
    pub fn size(self) -> Option<usize> {
        Some(match self {
            DataKind::U8 | DataKind::I8 => 1,
            DataKind::U16 | DataKind::I16 => 2,
            DataKind::U32 | DataKind::I32 | DataKind::F32 => 4,
            DataKind::U64 | DataKind::I64 | DataKind::F64 => 8,
            DataKind::Opaque => return None,
        })
    }

    /// The kind a backend may rely on for `T`: `T::KIND` when its size is `T`'s size,
    /// else `Opaque` (so a wrong `KIND` in a user's `impl Data` can never make a
    /// backend read or write past an element).
    ///
    /// ```
    /// use parsci_comm::{Data, DataKind};
    /// #[derive(Clone, Copy, bytemuck::Pod, bytemuck::Zeroable)]
    /// #[repr(C)]
    /// struct Half(u16, u16);
    /// impl Data for Half {
    ///     const KIND: DataKind = DataKind::F64; // wrong: 4 bytes, not 8
    /// }
    /// assert_eq!(DataKind::of::<Half>(), DataKind::Opaque);
    /// assert_eq!(DataKind::of::<f64>(), DataKind::F64);
    /// ```
    pub fn of<T: Data>() -> DataKind {
        match T::KIND.size() {
            Some(s) if s == std::mem::size_of::<T>() => T::KIND,
            _ => DataKind::Opaque,
        }
    }
}

/// An element of a typed message: plain data that can be copied byte for byte.
///
/// Implemented for the primitive numbers; for your own `#[repr(C)]` struct,
/// derive `bytemuck::Pod` and `bytemuck::Zeroable` and write `impl Data for MyStruct {}`.
pub trait Data: bytemuck::Pod + Send + Sync + 'static {
    /// The primitive this type is, or [`DataKind::Opaque`].
    const KIND: DataKind = DataKind::Opaque;
}

/// Elements with the built-in reductions sum, prod, min and max.
pub trait Arith: Data + PartialOrd {
    /// `a + b`
    fn add(self, other: Self) -> Self;
    /// `a * b`
    fn mul(self, other: Self) -> Self;
}

macro_rules! prim {
    ($($t:ty => $k:ident, $add:ident, $mul:ident;)*) => {$(
        impl Data for $t { const KIND: DataKind = DataKind::$k; }
        impl Arith for $t {
            #[inline] fn add(self, o: Self) -> Self { self.$add(o) }
            #[inline] fn mul(self, o: Self) -> Self { self.$mul(o) }
        }
    )*};
}
trait FloatOps: Sized {
    fn fadd(self, o: Self) -> Self;
    fn fmul(self, o: Self) -> Self;
}
macro_rules! float_ops {
    ($($t:ty),*) => {$(impl FloatOps for $t {
        #[inline] fn fadd(self, o: Self) -> Self { self + o }
        #[inline] fn fmul(self, o: Self) -> Self { self * o }
    })*};
}
float_ops!(f32, f64);
// Integers wrap, as MPI's C implementations do, rather than panic in debug builds.
prim! {
    u8 => U8, wrapping_add, wrapping_mul;
    i8 => I8, wrapping_add, wrapping_mul;
    u16 => U16, wrapping_add, wrapping_mul;
    i16 => I16, wrapping_add, wrapping_mul;
    u32 => U32, wrapping_add, wrapping_mul;
    i32 => I32, wrapping_add, wrapping_mul;
    u64 => U64, wrapping_add, wrapping_mul;
    i64 => I64, wrapping_add, wrapping_mul;
    f32 => F32, fadd, fmul;
    f64 => F64, fadd, fmul;
}
impl Data for usize {
    const KIND: DataKind = if cfg!(target_pointer_width = "64") { DataKind::U64 } else { DataKind::U32 };
}
impl Arith for usize {
    #[inline]
    fn add(self, o: Self) -> Self {
        self.wrapping_add(o)
    }
    #[inline]
    fn mul(self, o: Self) -> Self {
        self.wrapping_mul(o)
    }
}
impl<T: Data, const N: usize> Data for [T; N] where [T; N]: bytemuck::Pod {}

/// Which reduction an [`Op`] is.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum OpKind {
    /// Elementwise sum.
    Sum,
    /// Elementwise product.
    Prod,
    /// Elementwise minimum.
    Min,
    /// Elementwise maximum.
    Max,
    /// A user closure.
    User {
        /// Whether `f(a, b) == f(b, a)` (see [`Op::commutative`]; `false` by default).
        commutative: bool,
    },
}

type Combine<T> = dyn Fn(&mut [T], &[T]) + Send + Sync;
type Fused<T> = fn(&mut [T], &[T], &[T]);

/// A reduction operation: `acc[i] = acc[i] op x[i]`, applied in rank order
/// (`x0 op x1 op ... op x(P-1)`), so the result is the same on every rank and every run.
#[derive(Clone)]
pub struct Op<T> {
    kind: OpKind,
    combine: Combiner<T>,
}

/// How an [`Op`] combines.
#[derive(Clone)]
enum Combiner<T> {
    /// A built-in op: plain functions (`acc op= x`, and `out = a op b` in one pass), so
    /// that `Op::sum()` in a loop allocates nothing.
    Builtin(fn(&mut [T], &[T]), Fused<T>),
    /// A user closure.
    User(Arc<Combine<T>>),
}

impl<T> std::fmt::Debug for Op<T> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "Op::{:?}", self.kind)
    }
}

impl<T: Arith> Op<T> {
    /// Elementwise sum.
    pub fn sum() -> Self {
        Self::builtin(OpKind::Sum, |a, x| zip_with(a, x, T::add), |o, a, b| zip3(o, a, b, T::add))
    }
    /// Elementwise product.
    pub fn prod() -> Self {
        Self::builtin(OpKind::Prod, |a, x| zip_with(a, x, T::mul), |o, a, b| zip3(o, a, b, T::mul))
    }
    /// Elementwise minimum.
    pub fn min() -> Self {
        Self::builtin(OpKind::Min, |a, x| zip_with(a, x, min), |o, a, b| zip3(o, a, b, min))
    }
    /// Elementwise maximum.
    pub fn max() -> Self {
        Self::builtin(OpKind::Max, |a, x| zip_with(a, x, max), |o, a, b| zip3(o, a, b, max))
    }
    fn builtin(kind: OpKind, f: fn(&mut [T], &[T]), fused: Fused<T>) -> Self {
        Op { kind, combine: Combiner::Builtin(f, fused) }
    }
}

impl<T: Data> Op<T> {
    /// A user reduction from an elementwise closure `f(acc, x) -> new acc`.
    ///
    /// ```
    /// use parsci_comm::Op;
    /// let absmax = Op::<f64>::user(|a, b| a.abs().max(b.abs()));
    /// let mut acc = [1.0, -5.0];
    /// absmax.apply(&mut acc, &[-3.0, 2.0]);
    /// assert_eq!(acc, [3.0, 5.0]);
    /// ```
    pub fn user(f: impl Fn(&T, &T) -> T + Send + Sync + 'static) -> Self {
        Op {
            kind: OpKind::User { commutative: false },
            combine: Combiner::User(Arc::new(move |a: &mut [T], x: &[T]| {
                for (p, q) in a.iter_mut().zip(x) {
                    *p = f(p, q);
                }
            })),
        }
    }
    /// Declares a user op commutative, which lets MPI combine in any order (faster
    /// algorithms; for floats, last-bit differences from the rank-order fold). By
    /// default a user op is not commutative, as in mpi4py, and every backend combines
    /// in rank order. The thread backend always combines in rank order. Built-in ops are
    /// always commutative.
    pub fn commutative(mut self, yes: bool) -> Self {
        if let OpKind::User { .. } = self.kind {
            self.kind = OpKind::User { commutative: yes };
        }
        self
    }
    /// Which op this is.
    pub fn kind(&self) -> OpKind {
        self.kind
    }
    /// `acc[i] = acc[i] op x[i]` for every `i` of the shorter slice.
    pub fn apply(&self, acc: &mut [T], x: &[T]) {
        let n = acc.len().min(x.len());
        match &self.combine {
            Combiner::Builtin(f, _) => f(&mut acc[..n], &x[..n]),
            Combiner::User(f) => f(&mut acc[..n], &x[..n]),
        }
    }

    /// `out[i] = a[i] op b[i]` for every `i` of `out` (one pass for the built-in ops).
    ///
    /// # Panics
    /// If `a` or `b` is shorter than `out`.
    #[track_caller]
    pub fn apply_into(&self, out: &mut [T], a: &[T], b: &[T]) {
        let n = out.len();
        assert!(a.len() >= n && b.len() >= n, "apply_into: inputs shorter than the output");
        match &self.combine {
            Combiner::Builtin(_, fused) => fused(out, &a[..n], &b[..n]),
            Combiner::User(f) => {
                out.copy_from_slice(&a[..n]);
                f(out, &b[..n]);
            }
        }
    }
}

fn min<T: PartialOrd>(p: T, q: T) -> T {
    if q < p {
        q
    } else {
        p
    }
}

fn max<T: PartialOrd>(p: T, q: T) -> T {
    if q > p {
        q
    } else {
        p
    }
}

#[inline]
fn zip3<T: Copy>(o: &mut [T], a: &[T], b: &[T], f: impl Fn(T, T) -> T) {
    for ((o, a), b) in o.iter_mut().zip(a).zip(b) {
        *o = f(*a, *b);
    }
}

#[inline]
fn zip_with<T: Copy>(a: &mut [T], x: &[T], f: impl Fn(T, T) -> T) {
    for (p, q) in a.iter_mut().zip(x) {
        *p = f(*p, *q);
    }
}

/// One byte of a serialized object message; a distinct type so that a typed
/// receive of an object message (or the reverse) is reported as a type mismatch.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, bytemuck::Pod, bytemuck::Zeroable)]
#[repr(transparent)]
pub struct ObjByte(pub u8);
impl Data for ObjByte {
    const KIND: DataKind = DataKind::U8;
}

/// A short name of a type for error messages (`f64`, `Point`).
pub(crate) fn short_type_name<T: ?Sized>() -> String {
    short_name(std::any::type_name::<T>())
}

/// Drops the module paths from a type name: `alloc::vec::Vec<my::P>` becomes `Vec<P>`.
pub(crate) fn short_name(full: &str) -> String {
    if full.ends_with("::ObjByte") {
        return "object".into();
    }
    let mut out = String::new();
    let mut word = String::new();
    for ch in full.chars() {
        if ch.is_alphanumeric() || ch == '_' || ch == ':' {
            word.push(ch);
        } else {
            out.push_str(word.rsplit("::").next().unwrap_or(""));
            word.clear();
            out.push(ch);
        }
    }
    out.push_str(word.rsplit("::").next().unwrap_or(""));
    out
}
