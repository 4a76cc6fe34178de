//! Generates the bindings to PETSc (feature `petsc` only): finds PETSc and Open MPI with
//! pkg-config, runs bindgen over `wrapper.h` restricted to what `src/` uses, links PETSc.

fn main() {
    #[cfg(feature = "petsc")]
    petsc::bind();
}

#[cfg(feature = "petsc")]
mod petsc {
    use std::path::PathBuf;

    pub fn bind() {
        println!("cargo:rerun-if-changed=wrapper.h");
        let petsc = pkg_config::Config::new().probe("PETSc").unwrap_or_else(|e| {
            panic!(
                "the `petsc` feature needs PETSc's development files (pkg-config PETSc): \
                 on Debian/Ubuntu `apt-get install petsc-dev`; PETSC_DIR/lib/pkgconfig on \
                 PKG_CONFIG_PATH for a PETSc of your own.\n{e}"
            )
        });
        // PETSc's headers include mpi.h; its .pc file does not always say where it is.
        let mpi = pkg_config::Config::new().cargo_metadata(false).probe("ompi").ok();
        let includes = petsc.include_paths.iter().chain(mpi.iter().flat_map(|m| m.include_paths.iter()));
        let mut builder = bindgen::Builder::default()
            .header("wrapper.h")
            .clang_args(includes.map(|p| format!("-I{}", p.display())))
            .parse_callbacks(Box::new(bindgen::CargoCallbacks::new()))
            .allowlist_var("PETSC_COMM_WORLD")
            .allowlist_var("KSPConvergedReasons|SNESConvergedReasons")
            .allowlist_var("PETSC_DECIDE|PETSC_DEFAULT|PETSC_DETERMINE")
            .allowlist_type(
                "PetscErrorType|InsertMode|MatAssemblyType|MatOption|NormType|KSPConvergedReason|SNESConvergedReason\
                 |DMBoundaryType|DMDAStencilType|DMDALocalInfo|MatStencil|ScatterMode",
            )
            .rustified_enum("PetscBool")
            .layout_tests(false)
            .generate_comments(false);
        for f in [
            "PetscInitialize",
            "PetscInitialized",
            "PetscFinalize",
            "PetscPushErrorHandler",
            "PetscPopErrorHandler",
            "PetscErrorMessage",
            "PetscOptionsInsertString",
            "PetscOptionsGetInt",
            "PetscOptionsLeftGet",
            "PetscOptionsLeftRestore",
            "VecCreate",
            "VecSetSizes",
            "VecSetFromOptions",
            "VecDuplicate",
            "VecDestroy",
            "VecSet",
            "VecAXPY",
            "VecNorm",
            "VecGetSize",
            "VecGetOwnershipRange",
            "MatCreate",
            "MatSetSizes",
            "MatSetFromOptions",
            "MatMPIAIJSetPreallocation",
            "MatSeqAIJSetPreallocation",
            "MatGetOwnershipRange",
            "MatSetValues",
            "MatAssemblyBegin",
            "MatAssemblyEnd",
            "MatSetOption",
            "MatMult",
            "MatDestroy",
            "KSPCreate",
            "KSPDestroy",
            "KSPSetOperators",
            "KSPSetTolerances",
            "KSPSetFromOptions",
            "KSPSolve",
            "KSPGetIterationNumber",
            "KSPGetResidualNorm",
            "KSPGetConvergedReason",
            "KSPGetType",
            "KSPSetType",
            "KSPGetPC",
            "PCSetType",
            "PCGetType",
            "VecGetLocalSize",
            "VecGetArray",
            "VecRestoreArray",
            "VecGetArrayRead",
            "VecRestoreArrayRead",
            "VecCopy",
            "VecMax",
            "VecMin",
            "VecSum",
            "KSPSetInitialGuessNonzero",
            "VecScatterCreateToZero",
            "VecScatterBegin",
            "VecScatterEnd",
            "VecScatterDestroy",
            "MatSetValuesStencil",
            "MatZeroEntries",
            "DMDACreate2d",
            "DMSetFromOptions",
            "DMSetUp",
            "DMDestroy",
            "DMDAGetLocalInfo",
            "DMCreateGlobalVector",
            "DMCreateLocalVector",
            "DMGlobalToLocalBegin",
            "DMGlobalToLocalEnd",
            "DMLocalToGlobalBegin",
            "DMLocalToGlobalEnd",
            "DMCreateMatrix",
            "DMDACreateNaturalVector",
            "DMDAGlobalToNaturalBegin",
            "DMDAGlobalToNaturalEnd",
            "SNESCreate",
            "SNESDestroy",
            "SNESSetDM",
            "SNESSetFunction",
            "SNESSetJacobian",
            "SNESSetFromOptions",
            "SNESSolve",
            "SNESGetIterationNumber",
            "SNESGetLinearSolveIterations",
            "SNESGetConvergedReason",
            "SNESGetType",
            "SNESGetFunction",
            "SNESGetKSP",
        ] {
            builder = builder.allowlist_function(f);
        }
        let bindings = builder.generate().expect("bindgen could not generate PETSc's bindings");
        let out = PathBuf::from(std::env::var("OUT_DIR").expect("OUT_DIR")).join("petsc.rs");
        bindings.write_to_file(out).expect("write PETSc's bindings");
    }
}
